import TollgateCore

/// The FOCUS export of a time range: one query of the store by day, key, provider, model
/// and every tag dimension, each group turned into its token-class rows.
public enum FocusExport {
    /// Dimensions a row is distinct by: a key used by two teams in a day is two sets of rows,
    /// so each row's `Tags` are true of all of its cost.
    static let dimensions: [UsageDimension] = [.key, .provider, .model, .team, .project, .user, .useCase, .environment]

    /// The whole CSV, header first. An empty range or one with no usage is the header alone.
    public static func csv(store: UsageStore, range: ExportRange, catalog: PriceCatalog) throws -> (text: String, rows: Int, cost: Nanodollars) {
        var writer = CSVWriter()
        writer.append(FocusColumn.allCases.map(\.rawValue))
        let minutes = range.minutes
        let groups = try store.query(fromMinute: minutes.lowerBound, toMinute: minutes.upperBound, groupBy: dimensions, every: .day)
        let builder = FocusRows(catalog: catalog, range: range)
        var count = 0
        var cost = Nanodollars.zero
        for group in groups {
            for row in builder.rows(dimensions: group.dimensions, counters: group.counters, dayStartMinute: group.bucketStartMinute ?? minutes.lowerBound) {
                writer.append(row)
                count += 1
            }
            cost += group.counters.cost
        }
        return (writer.text, count, cost)
    }
}

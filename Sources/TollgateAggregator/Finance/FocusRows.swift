import Foundation
import TollgateCore

/// Turns one day's usage of one key and model (with one set of tags) into FOCUS rows, one
/// per token class that has tokens: the pure part of the export, tested without a store.
public struct FocusRows: Sendable {
    /// The prices the list columns are read from; unknown models take the catalog's fallback.
    public var catalog: PriceCatalog
    /// The charge period is the day clipped to this range.
    public var range: ExportRange

    public init(catalog: PriceCatalog, range: ExportRange) {
        self.catalog = catalog
        self.range = range
    }

    /// Values in `FocusColumn.allCases` order; nil is an empty (null) field.
    public func rows(dimensions: Dimensions, counters: UsageCounters, dayStartMinute: Int64) -> [[String?]] {
        let price: ModelPrice
        switch catalog.lookup(dimensions.model) {
        case .priced(_, let found): price = found
        case .unpriced(let fallback): price = fallback
        }
        let parts = CostSplit.split(tokens: counters.tokens, cost: counters.cost, rates: price.standard)
        guard !parts.isEmpty else { return [] }
        let dayStart = dayStartMinute * 60
        let start = max(dayStart, range.from)
        let end = min(dayStart + 86_400, range.to)
        let month = ReportMonth(year: CivilDate(daysSinceEpoch: dayStartMinute / 1_440).year,
                                month: CivilDate(daysSinceEpoch: dayStartMinute / 1_440).month)
        let provider = Self.providerName(dimensions.provider)
        // Estimated or unpriced requests make the whole row an estimate: a cell does not say
        // which of its tokens they were.
        let source = counters.estimated > 0 || counters.unpriced > 0 ? "estimated" : "metered"
        let tags = Self.tags(dimensions)
        return parts.map { part in
            var row = [String?](repeating: nil, count: FocusColumn.allCases.count)
            func set(_ column: FocusColumn, _ value: String?) { row[Self.index[column]!] = value }
            let billed = part.billedCost.decimalUSD
            set(.billedCost, billed)
            set(.effectiveCost, billed)
            set(.contractedCost, billed)
            set(.pricingCurrencyEffectiveCost, billed)
            set(.listCost, part.listCost.decimalUSD)
            set(.listUnitPrice, Nanodollars(part.listRate).decimalUSD)
            set(.pricingCurrencyListUnitPrice, Nanodollars(part.listRate).decimalUSD)
            set(.billingAccountId, dimensions.provider.isEmpty ? "unknown" : dimensions.provider)
            set(.billingAccountName, provider)
            set(.billingCurrency, "USD")
            set(.pricingCurrency, "USD")
            set(.billingPeriodStart, Self.timestamp(month.startMinute * 60))
            set(.billingPeriodEnd, Self.timestamp(month.endMinute * 60))
            set(.chargePeriodStart, Self.timestamp(start))
            set(.chargePeriodEnd, Self.timestamp(end))
            set(.chargeCategory, "Usage")
            set(.chargeFrequency, "Usage-Based")
            set(.chargeDescription, "\(dimensions.model.isEmpty ? "unknown model" : dimensions.model) \(part.tokenClass.meter.lowercased())")
            // Decimal columns always carry a fraction, so readers that infer a column's type
            // (pandas, and the FOCUS validator on it) read a decimal, not an integer.
            set(.consumedQuantity, "\(part.tokens).0")
            set(.consumedUnit, "Tokens")
            set(.pricingQuantity, Self.millions(part.tokens))
            set(.pricingUnit, "1M Tokens")
            set(.pricingCategory, "Standard")
            set(.serviceProviderName, provider)
            set(.hostProviderName, provider)
            set(.invoiceIssuerName, provider)
            set(.providerName, provider)
            set(.publisherName, provider)
            set(.resourceId, dimensions.keyID.isEmpty ? nil : dimensions.keyID)
            set(.resourceName, dimensions.keyHint.isEmpty ? nil : dimensions.keyHint)
            set(.resourceType, dimensions.keyID.isEmpty ? nil : "API Key")
            set(.serviceCategory, "AI and Machine Learning")
            set(.serviceSubcategory, "Generative AI")
            set(.serviceName, "\(provider) API")
            set(.skuId, "\(dimensions.provider)/\(dimensions.model)")
            set(.skuPriceId, "\(dimensions.provider)/\(dimensions.model)/\(part.tokenClass.rawValue)")
            set(.skuMeter, part.tokenClass.meter)
            set(.tags, tags)
            set(.modelId, dimensions.model)
            set(.tokenDirection, part.tokenClass.direction)
            set(.tokenCacheAction, part.tokenClass.cacheAction)
            set(.tokenClass, part.tokenClass.rawValue)
            set(.costSource, source)
            return row
        }
    }

    static let index: [FocusColumn: Int] = Dictionary(uniqueKeysWithValues: FocusColumn.allCases.enumerated().map { ($1, $0) })

    /// `2026-11-01T00:00:00Z`: FOCUS dates are ISO 8601 in UTC.
    static func timestamp(_ seconds: Int64) -> String {
        let minute = seconds >= 0 ? seconds / 60 : (seconds - 59) / 60
        let text = CivilDate.rfc3339(minute: minute)
        let second = seconds - minute * 60
        guard second != 0 else { return text }
        return String(text.dropLast(3)) + (second < 10 ? "0\(second)Z" : "\(second)Z")
    }

    /// Tokens in millions, exactly: 1_234 → `0.001234`.
    static func millions(_ tokens: Int64) -> String {
        let fraction = String(tokens % 1_000_000)
        return "\(tokens / 1_000_000).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)"
    }

    /// The provider as its customers name it on an invoice.
    static func providerName(_ provider: String) -> String {
        switch provider {
        case "openai": "OpenAI"
        case "anthropic": "Anthropic"
        case "gemini": "Google"
        case "azure": "Microsoft"
        case "": "Unknown"
        default: provider
        }
    }

    /// Tollgate's attribution as a FOCUS `Tags` JSON object, set dimensions only, keys sorted.
    static func tags(_ dimensions: Dimensions) -> String? {
        let pairs: [(String, String)] = [("env", dimensions.environment), ("project", dimensions.project), ("team", dimensions.team),
                                         ("use_case", dimensions.useCase), ("user", dimensions.user)]
        var object: [String: String] = [:]
        for (key, value) in pairs where !value.isEmpty { object[key] = value }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(object)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

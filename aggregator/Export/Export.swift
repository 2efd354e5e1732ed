import ArgumentParser

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export usage and cost for finance tools.",
        discussion: "`tollgate export focus` writes the FinOps Foundation's FOCUS 1.3 CSV.",
        subcommands: [ExportFocus.self])
}

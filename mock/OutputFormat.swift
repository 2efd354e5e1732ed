import ArgumentParser

/// Tables for people, JSON for scripts and tests.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table
    case json
}

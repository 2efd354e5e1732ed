import TollgateCore
import Foundation

/// What a non-streaming extractor read from a whole response body: the usage (or why there
/// is none) and the generated text seen, which the buffered tap keeps for estimates even
/// when the usage is missing.
struct BodyReading: Sendable {
    var usage: Result<ExtractedUsage, UsageExtractionError>
    var outputCharacters: Int

    static let malformed = BodyReading(usage: .failure(.malformedJSON), outputCharacters: 0)

    init(usage: Result<ExtractedUsage, UsageExtractionError>, outputCharacters: Int) {
        self.usage = usage
        self.outputCharacters = outputCharacters
    }

    /// Reads the usage with `tokens`, which throws `UsageExtractionError` for implausible counts.
    init(model: String?, outputCharacters: Int, tokens: () throws -> TokenUsage?) {
        self.outputCharacters = outputCharacters
        do {
            if let tokens = try tokens() {
                usage = .success(ExtractedUsage(model: ReportedModel.name(model), tokens: tokens))
            } else {
                usage = .failure(.noUsage)
            }
        } catch let error as UsageExtractionError {
            usage = .failure(error)
        } catch {
            usage = .failure(.malformedJSON)
        }
    }
}

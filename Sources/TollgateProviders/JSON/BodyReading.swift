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
    init(model: String?, outputCharacters: Int, serviceTier: ServiceTier? = nil, tokens: () throws -> TokenUsage?) {
        self.init(model: model, outputCharacters: outputCharacters) {
            try tokens().map { ExtractedUsage(model: nil, tokens: $0, serviceTier: serviceTier) }
        }
    }

    /// Reads the usage with `usage`, whose model is replaced by `model`.
    init(model: String?, outputCharacters: Int, usage read: () throws -> ExtractedUsage?) {
        self.outputCharacters = outputCharacters
        do {
            if var extracted = try read() {
                extracted.model = ReportedModel.name(model)
                usage = .success(extracted)
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

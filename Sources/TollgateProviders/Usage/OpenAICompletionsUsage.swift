import Foundation
import TollgateCore

/// Usage of OpenAI's legacy Completions (`/v1/completions`) non-streaming responses: the
/// same `usage` object as Chat Completions, with the text in `choices[].text`.
public enum OpenAICompletionsUsage {
    public static func extract(from body: Data) throws -> ExtractedUsage {
        try OpenAIChoicesBody.read(body).usage.get()
    }
}

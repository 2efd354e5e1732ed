import Foundation
import TollgateCore

/// Usage of OpenAI's Chat Completions (`/v1/chat/completions`) non-streaming responses.
///
/// `prompt_tokens` includes cached reads and `completion_tokens` includes reasoning, which
/// is exactly `TokenUsage`'s convention, so the numbers are taken as they are.
public enum OpenAIChatUsage {
    public static func extract(from body: Data) throws -> ExtractedUsage {
        try OpenAIChoicesBody.read(body).usage.get()
    }
}

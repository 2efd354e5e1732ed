/// Where the store keeps which CurveZMQ key speaks for each agent id (DESIGN.md decision 3:
/// no agent can ship, or erase, another's usage).
///
/// Key space `"k"` + agent ID (UTF-8) → the allowlist name of the key (the file name
/// without `.pub` under `authorized_keys_directory`, the connection's ZAP User-Id), UTF-8.
/// Written in the same WriteBatch as the first batch applied for the agent from a CURVE
/// connection, so binding and first usage are durable together. The name, not the key
/// bytes, is bound so an operator can rotate an agent's key by replacing its `.pub` file.
enum AgentBindingCodec {
    static let bindingPrefix = UInt8(ascii: "k")

    static func key(_ agentID: String) -> [UInt8] {
        [bindingPrefix] + Array(agentID.utf8)
    }

    static func encode(_ keyName: String) -> [UInt8] {
        Array(keyName.utf8)
    }

    static func decode(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}

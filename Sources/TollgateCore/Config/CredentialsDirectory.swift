import Foundation

/// Where systemd hands a service its secrets.
///
/// With `LoadCredential=org-secret:/etc/tollgate/org-secret` systemd reads the root-owned
/// 0600 file itself and gives the service a private, read-only copy owned by its user in
/// `$CREDENTIALS_DIRECTORY` (a per-service directory under /run/credentials/). The secret
/// never has to be readable by the `tollgate` user on disk. A config value names such a copy
/// as `${CREDENTIALS_DIRECTORY}/org-secret`; only this one variable is expanded, so a path
/// never changes meaning because of some unrelated environment variable.
public enum CredentialsDirectory {
    public static let variable = "CREDENTIALS_DIRECTORY"
    public static let placeholder = "${CREDENTIALS_DIRECTORY}"

    /// `value` with every `${CREDENTIALS_DIRECTORY}` replaced by the directory systemd set;
    /// an error naming `key` when the value asks for it but the process is not running
    /// under a unit with `LoadCredential=`.
    public static func expand(_ value: String, key: String, environment: [String: String]) throws -> String {
        guard value.contains(placeholder) else { return value }
        guard let directory = environment[variable], !directory.isEmpty else {
            throw ConfigError.invalid(
                key: key, value: value,
                expected: "\(variable) to be set: systemd sets it for a unit with LoadCredential= (as the packaged units do); "
                    + "when running by hand, write the file's own path instead")
        }
        let trimmed = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        return value.replacingOccurrences(of: placeholder, with: trimmed)
    }
}

/// The release these binaries are. The one place the version is written: `--version` and
/// the `tollgate_build_info` metric both read it.
public enum TollgateVersion {
    public static let current = "0.1.0"
}

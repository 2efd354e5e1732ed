import Foundation

/// A clock tests move by hand.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    init(_ unixSeconds: Int64) { current = Date(timeIntervalSince1970: TimeInterval(unixSeconds)) }

    var now: Date { lock.withLock { current } }

    func set(_ unixSeconds: Int64) { lock.withLock { current = Date(timeIntervalSince1970: TimeInterval(unixSeconds)) } }

    var function: @Sendable () -> Date { { [self] in now } }
}

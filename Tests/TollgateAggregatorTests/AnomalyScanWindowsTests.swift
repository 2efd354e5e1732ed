import Foundation
import Logging
import TestSupport
import Testing
import TollgateCore
import TollgateWire
@testable import TollgateAggregator

/// The anomaly scan reads its 8 windows through one iterator (`UsageStore.query(windows:)`)
/// and complete hours from hour cells: the answers must be `query`'s, cell for cell, before
/// and after the hours are rolled up.
@Suite struct AnomalyScanWindowsTests {
    static let day = AnomalyMonitorTests.day

    @Test func everyWindowAnswersAsItsOwnQueryAndTheReportIsTheSameFromHourCells() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            try AnomalyMonitorTests.history(store)
            // 10:00, so today's 08:00–10:00 and the mornings before hold whole hours.
            let now = Self.day * 86_400 + 36_000
            let clock = ManualClock(unixSeconds: now)
            let monitor = AnomalyMonitor(settings: AnomalyMonitorTests.settings(), store: store, metrics: AggregatorMetrics(),
                                         logger: Logger(label: "test"), clock: clock.serviceClock)
            let fromMinutes = try monitor.report()
            #expect(!fromMinutes.anomalies.isEmpty)

            try store.rollUp(now: now)
            let state = store.rollup.withLockedValue { $0 }
            let windows = AnomalyDetector.windows(now: now)
            #expect(state.hoursComplete > windows.today.lowerBound, "today's complete hours are in hour cells")
            #expect(QueryPlan(fromMinute: windows.today.lowerBound, toMinute: windows.today.upperBound, state: state, every: nil).pieces
                .contains { $0.granularity != .minute })
            let fromHours = try monitor.report()
            #expect(fromHours.anomalies == fromMinutes.anomalies)

            let asked = [(windows.today, AnomalyDetector.todayDimensions)] + windows.previous.map { ($0, AnomalyDetector.previousDimensions) }
            let together = try store.query(windows: asked)
            for (index, window) in asked.enumerated() {
                let alone = try store.query(fromMinute: window.0.lowerBound, toMinute: window.0.upperBound, groupBy: window.1)
                #expect(together[index] == alone, "window \(index)")
            }
            // Empty and backwards-free edge: an empty window answers nothing, the others unchanged.
            let withEmpty = try store.query(windows: [(windows.today.lowerBound..<windows.today.lowerBound, AnomalyDetector.todayDimensions)] + asked)
            #expect(withEmpty[0].isEmpty && Array(withEmpty.dropFirst()) == together)
        }
    }
}

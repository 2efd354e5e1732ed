import Testing
@testable import TollgateCore

@Suite struct CellAccumulatorTests {
    func event(key: String, model: String, at time: Int64, input: Int64, flags: UsageEvent.Flags = []) -> UsageEvent {
        var dimensions = Dimensions()
        dimensions.keyID = key
        dimensions.model = model
        return UsageEvent(unixTime: time, dimensions: dimensions, tokens: TokenUsage(input: input, output: 1), cost: Nanodollars(input), flags: flags)
    }

    @Test func foldsEventsByMinuteAndDimensions() {
        var accumulator = CellAccumulator()
        accumulator.add(event(key: "a", model: "m", at: 60, input: 10))
        accumulator.add(event(key: "a", model: "m", at: 119, input: 5, flags: .error))
        accumulator.add(event(key: "a", model: "m", at: 120, input: 7))
        accumulator.add(event(key: "b", model: "m", at: 60, input: 1))
        let cells = accumulator.drain().sorted { ($0.key.minute, $0.key.dimensions.keyID) < ($1.key.minute, $1.key.dimensions.keyID) }
        #expect(cells.count == 3)
        #expect(cells[0].key.minute == 1 && cells[0].counters.requests == 2 && cells[0].counters.tokens.input == 15)
        #expect(cells[0].counters.errors == 1 && cells[0].counters.cost == Nanodollars(15))
        #expect(cells[1].key.dimensions.keyID == "b")
        #expect(cells[2].key.minute == 2)
        #expect(accumulator.isEmpty)
    }

    @Test func mergingFoldsGivesTheSameCellsAsOneFold() {
        let events = (0..<200).map { event(key: "k\($0 % 3)", model: "m\($0 % 2)", at: Int64($0 * 7), input: Int64($0)) }
        var whole = CellAccumulator()
        events.forEach { whole.add($0) }
        var first = CellAccumulator(), second = CellAccumulator(), merged = CellAccumulator()
        events.prefix(77).forEach { first.add($0) }
        events.dropFirst(77).forEach { second.add($0) }
        (first.drain() + second.drain()).forEach { merged.add($0) }
        #expect(Set(whole.drain()) == Set(merged.drain()))
    }

    @Test func negativeTimesFallInTheEarlierMinute() {
        #expect(event(key: "a", model: "m", at: -1, input: 0).minute == -1)
        #expect(event(key: "a", model: "m", at: -60, input: 0).minute == -1)
        #expect(event(key: "a", model: "m", at: -61, input: 0).minute == -2)
    }
}

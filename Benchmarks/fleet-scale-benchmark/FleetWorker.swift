import CZeroMQ
import Foundation
import TollgateCore
import TollgateWire

/// One process's share of the simulated fleet: for each agent a CurveZMQ DEALER (usage,
/// its own keypair) and SUB (quota), all on one context polled by this one thread. Driven
/// by the coordinator over stdin/stdout, one line per command and per answer:
///
/// - `ingest B` → every agent ships B batches (up to 16 in flight each, like the shipper)
///   and waits for its acks → `ingest <cells> <start ns> <end ns> <cpu ns>`
/// - `watch <budget>` → answers `expecting`, waits until every agent holds the budget (the
///   coordinator sets it after `expecting`), answers `watching <count>`,
///   then records when each agent first decodes it as `blocked` → `seen <count> <cpu ns> <ns> …`
///   (CPU: this process's, every thread, while watching)
/// - `quit`
struct FleetWorker {
    struct Agent {
        var name: String
        var keyPair: CurveKeyPair
    }

    let agents: [Agent]
    let cells: Int
    /// Outlives the sockets (declared first, so released last).
    let context: FleetContext
    let dealers: [FleetSocket]
    let subscribers: [FleetSocket]
    var seqs: [UInt64]
    let payloads: [CompressedPayload]
    /// `--decode scan`: trials find the budget's state in the bytes (`BudgetStateScan`)
    /// instead of decoding each update as an agent does.
    var scanOnly = false

    init(keysFile: String, serverKey: String, usage: String, quota: String, cells: Int) throws {
        let text = try String(contentsOfFile: keysFile, encoding: .utf8)
        agents = try text.split(separator: "\n").map { line in
            let parts = line.split(separator: " ")
            return Agent(name: String(parts[0]), keyPair: try CurveKeyPair(secretKey: String(parts[1])))
        }
        self.cells = cells
        let context = FleetContext(maxSockets: agents.count * 2 + 64)
        self.context = context
        dealers = try agents.map { try FleetSocket(context, type: ZMQ_DEALER, keyPair: $0.keyPair, serverKey: serverKey, endpoint: usage) }
        subscribers = try agents.map { agent in
            try FleetSocket(context, type: ZMQ_SUB, keyPair: agent.keyPair, serverKey: serverKey, endpoint: quota,
                            topics: [QuotaTopic.broadcast.bytes, QuotaTopic.agent(agent.name).bytes])
        }
        seqs = Array(repeating: 0, count: agents.count)
        // A few payload variants, encoded once: agents differ by name and seq, which is what
        // the aggregator deduplicates and files batches by.
        payloads = try (0..<8).map { try UsageBatchCodec.encodePayload(FleetTraffic.cells(count: cells, variant: $0)) }
    }

    /// Waits until every SUB decoded a first update (the snapshot its subscription asks for):
    /// by then both handshakes of every agent are done. Then keeps reading for `settle`
    /// seconds, as agents would: SUBs left unread pile up updates (to libzmq's high-water
    /// mark of 1,000 messages each).
    func waitUntilSubscribed(timeoutSeconds: Double, settleSeconds: Double) throws -> Int {
        var poller = try FleetReadiness(subscribers, indices: Array(subscribers.indices))
        defer { poller.close() }
        var heard = Set<Int>()
        let deadline = monotonicNanoseconds() + UInt64(timeoutSeconds * 1e9)
        while heard.count < subscribers.count && monotonicNanoseconds() < deadline {
            for index in try poller.wait(milliseconds: 200) {
                if try readUpdates(index) > 0 { heard.insert(index) }
            }
        }
        let settled = monotonicNanoseconds() + UInt64(settleSeconds * 1e9)
        while monotonicNanoseconds() < settled {
            for index in try poller.wait(milliseconds: 50) { try readUpdates(index) }
        }
        return heard.count
    }

    /// Decodes every quota update waiting on one agent's SUB, as the agent's quota client does.
    @discardableResult
    func readUpdates(_ index: Int) throws -> Int {
        var count = 0
        while let message = try subscribers[index].receive() {
            // The update is the last frame; an agent's own snapshot has its topic first.
            _ = try QuotaUpdateCodec.decode(message[message.count - 1])
            count += 1
        }
        return count
    }

    mutating func ingest(batchesPerAgent: Int) throws -> (cells: Int, start: UInt64, end: UInt64, cpu: UInt64) {
        let frames = try agents.indices.map { index in
            try (1...batchesPerAgent).map { offset in
                try UsageBatchCodec.frames(agentID: agents[index].name, seq: seqs[index] + UInt64(offset), floorSeq: 0,
                                           payload: payloads[(index + offset) % payloads.count])
            }
        }
        let window = 16
        var sent = Array(repeating: 0, count: agents.count)
        var acked = Array(repeating: 0, count: agents.count)
        var poller = try FleetReadiness(dealers, indices: Array(dealers.indices))
        defer { poller.close() }
        // Every commit moves the standing budgets, so updates keep coming while agents ship:
        // read them as agents do, between rounds of acks.
        var quotaPoller = try FleetReadiness(subscribers, indices: Array(subscribers.indices))
        defer { quotaPoller.close() }
        let cpuStart = processCPUNanoseconds()
        let start = monotonicNanoseconds()
        /// Reads an agent's acks; true once all its batches are acknowledged.
        func readAcks(_ index: Int) throws -> Bool {
            while let reply = try dealers[index].receive() {
                guard case .ack(let seq) = try UsageReply(decoding: reply[0]) else {
                    throw ZMQFailure("agent \(agents[index].name) got \(try UsageReply(decoding: reply[0]))", code: 0)
                }
                acked[index] = max(acked[index], Int(seq - seqs[index]))
            }
            return acked[index] == batchesPerAgent
        }
        var pending = Set(dealers.indices)
        var toSend = Array(dealers.indices)
        while !pending.isEmpty {
            for index in try quotaPoller.wait(milliseconds: 0) { try readUpdates(index) }
            var done: [Int] = []
            for index in toSend {
                while sent[index] < batchesPerAgent, sent[index] - acked[index] < window {
                    try dealers[index].send(frames[index][sent[index]])
                    sent[index] += 1
                }
                // A send may have taken the descriptor's signal for a reply already waiting.
                if try readAcks(index) { done.append(index) }
            }
            toSend = []
            for index in try poller.wait(milliseconds: 20) where pending.contains(index) {
                if try readAcks(index) { done.append(index) } else { toSend.append(index) }
            }
            poller.remove(done)
            pending.subtract(done)
        }
        let end = monotonicNanoseconds()
        for index in seqs.indices { seqs[index] += UInt64(batchesPerAgent) }
        return (agents.count * batchesPerAgent * cells, start, end, processCPUNanoseconds() - cpuStart)
    }

    /// Waits (up to `timeoutSeconds`) until every agent holds `budgetID` in any state: the
    /// broadcast of a new budget must be through before a trial starts, or the trial would
    /// measure the tail of that fan-out too. Returns how many agents hold it.
    func awaitBudget(_ budgetID: String, timeoutSeconds: Double) throws -> Int {
        var poller = try FleetReadiness(subscribers, indices: Array(subscribers.indices))
        defer { poller.close() }
        var holding = 0
        let deadline = monotonicNanoseconds() + UInt64(timeoutSeconds * 1e9)
        while !poller.isEmpty && monotonicNanoseconds() < deadline {
            var done: [Int] = []
            for index in try poller.wait(milliseconds: 100) {
                while let message = try subscribers[index].receive() {
                    let update = try QuotaUpdateCodec.decode(message[message.count - 1])
                    if update.budgets.contains(where: { $0.budgetID == budgetID }) { done.append(index) }
                }
            }
            holding += Set(done).count
            poller.remove(done)
        }
        return holding
    }

    /// When each agent first held `budgetID` as blocking (monotonic ns), and this process's
    /// CPU time meanwhile; agents that never did within the timeout are left out.
    func watch(budgetID: String, timeoutSeconds: Double) throws -> (seen: [UInt64], cpu: UInt64) {
        var seen: [UInt64] = []
        seen.reserveCapacity(subscribers.count)
        let budgetBytes = Array(budgetID.utf8)
        var poller = try FleetReadiness(subscribers, indices: Array(subscribers.indices))
        defer { poller.close() }
        let cpuStart = processCPUNanoseconds()
        let deadline = monotonicNanoseconds() + UInt64(timeoutSeconds * 1e9)
        while !poller.isEmpty && monotonicNanoseconds() < deadline {
            var done: [Int] = []
            for index in try poller.wait(milliseconds: 100) {
                var blocked = false
                while let message = try subscribers[index].receive() {
                    guard !blocked else { continue }
                    let holds = scanOnly
                        ? BudgetStateScan.isBlocked(message[message.count - 1], budgetID: budgetBytes)
                        : try QuotaUpdateCodec.decode(message[message.count - 1]).budgets.contains { $0.budgetID == budgetID && $0.isBlocking }
                    if holds {
                        seen.append(monotonicNanoseconds())
                        blocked = true
                    }
                }
                if blocked { done.append(index) }
            }
            poller.remove(done)
        }
        return (seen, processCPUNanoseconds() - cpuStart)
    }

    /// Reads commands from stdin until `quit` or EOF.
    static func run(_ arguments: [String: String]) throws {
        raiseOpenFileLimit()
        let started = monotonicNanoseconds()
        var worker = try FleetWorker(keysFile: arguments["--keys"]!, serverKey: arguments["--server-key"]!,
                                     usage: arguments["--usage"]!, quota: arguments["--quota"]!,
                                     cells: Int(arguments["--cells"] ?? "") ?? 1_000)
        worker.scanOnly = arguments["--decode"] == "scan"
        let subscribed = try worker.waitUntilSubscribed(timeoutSeconds: 120, settleSeconds: Double(arguments["--settle"] ?? "") ?? 5)
        say("ready \(subscribed) \(monotonicNanoseconds() - started)")
        while let line = try worker.nextCommand() {
            let parts = line.split(separator: " ").map(String.init)
            switch parts.first {
            case "ingest":
                let (cells, start, end, cpu) = try worker.ingest(batchesPerAgent: Int(parts[1]) ?? 1)
                say("ingest \(cells) \(start) \(end) \(cpu)")
            case "watch":
                // Answered before the coordinator sets the budget, so no agent can decode it
                // (and drop it, reading idle) before this worker looks for it.
                say("expecting")
                let holding = try worker.awaitBudget(parts[1], timeoutSeconds: 10)
                say("watching \(holding)")
                let (seen, cpu) = try worker.watch(budgetID: parts[1], timeoutSeconds: 10)
                say("seen \(seen.count) \(cpu) " + seen.map(String.init).joined(separator: " "))
            default:
                // Exits here rather than by returning: returning destroys the worker's
                // sockets and context in no set order, and a context terminated while its
                // sockets are open blocks forever (a hung worker held the coordinator).
                exit(0)
            }
        }
    }

    /// Waits for the coordinator's next line, reading quota updates meanwhile: an idle
    /// worker's SUBs must not pile up the snapshots other agents' subscriptions cause.
    func nextCommand() throws -> String? {
        var poller = try FleetReadiness(subscribers, indices: Array(subscribers.indices), alsoDescriptor: STDIN_FILENO)
        defer { poller.close() }
        while true {
            for index in try poller.wait(milliseconds: 200) { try readUpdates(index) }
            if poller.plainReady { return readLine() }
        }
    }

    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

import Foundation
import TollgateWire

extension IngestServer {
    /// Answers a lease request (`[routing id, "lease", LeaseRequest]`) on the socket thread:
    /// it needs no commit, only the lease desk's lock, and the agent is waiting on it to
    /// admit requests. A malformed one is counted and gets no answer (the agent asks again).
    func answerLease(_ frames: [Data], keyName: String?, on socket: ZMQSocket) {
        let request: LeaseRequestMessage
        do {
            request = try LeaseCodec.decodeRequest(frames[2])
        } catch let error as WireError {
            metrics.ingestRejected(error.reason).increment()
            logger.warning("rejected a lease request: \(error)")
            return
        } catch {
            metrics.ingestRejected("unknown").increment()
            return
        }
        let grant = budgets?.leases?.handle(request, keyName: keyName)
            ?? LeaseGrantMessage(budgetID: request.budgetID, windowStart: request.windowStart, leaseID: request.leaseID,
                                 added: 0, total: 0, ttlMilliseconds: 0, refused: .notLeased)
        do {
            _ = try socket.send([frames[0]] + LeaseCodec.frames(grant))
        } catch {
            metrics.socketErrors.increment()
            logger.error("could not answer a lease request from agent \(request.agentID): \(error)")
        }
    }
}

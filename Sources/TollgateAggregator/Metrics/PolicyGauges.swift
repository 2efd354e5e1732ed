import TollgateCore

/// `tollgate_policies{mode}`, `tollgate_policy_hits{policy,outcome}` and
/// `tollgate_policy_rejecting_agents{policy}`: computed from the policy book and the fleet's
/// reports when `/metrics` is scraped, like `BudgetGauges`, so a removed policy's series go
/// with it and an agent id from a report never becomes a label (only policies that are set).
///
/// Hits are gauges, not counters: they are sums of the agents' latest reports (counts since
/// each agent started, earlier processes carried), which an agent forgotten by the registry
/// would lower.
enum PolicyGauges {
    static let outcomes = ["routed", "refused", "dry_run_routed", "dry_run_refused"]

    static func exposition(_ policies: [Policy], hits: [String: PolicyHitsView], rejecting: [String: Int]) -> String {
        var text = PrometheusText()
        text.family("tollgate_policies", type: "gauge", help: "Spend policies set on the aggregator, by mode (enforce, dry_run).")
        for mode in Policy.Mode.allCases {
            text.sample("tollgate_policies", [("mode", mode.rawValue)], decimal: String(policies.filter { $0.mode == mode }.count))
        }
        text.family("tollgate_policy_hits", type: "gauge",
                    help: "Requests each policy routed or refused (or would have, in dry-run: dry_run_routed, dry_run_refused), summed over the agents' reports.")
        for policy in policies {
            let counts = hits[policy.id] ?? PolicyHitsView()
            for (outcome, value) in zip(outcomes, [counts.routed, counts.refused, counts.dryRunRouted, counts.dryRunRefused]) {
                text.sample("tollgate_policy_hits", [("policy", policy.id), ("outcome", outcome)], decimal: String(value))
            }
        }
        text.family("tollgate_policy_rejecting_agents", type: "gauge",
                    help: "Agents whose latest report says they could not apply the policy (they keep its previous version): see tollgate agents.")
        for policy in policies {
            text.sample("tollgate_policy_rejecting_agents", [("policy", policy.id)], decimal: String(rejecting[policy.id] ?? 0))
        }
        return text.text
    }
}

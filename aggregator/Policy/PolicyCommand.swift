import ArgumentParser

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Steer spend at the edge: route, downgrade, allow and deny models by use case, team, env…",
        discussion: """
        A policy is set on the aggregator and pushed to every agent with the quota state
        (within about a second); agents apply it to each request before it leaves the host,
        with no round trip. Four kinds:
          route      requests in --scope for --models go to --to instead (same provider:
                     only the model field changes, the key and upstream stay)
          downgrade  the same, but only while --budget is at or above --at % of its limit;
                     the budget itself still blocks at its limit
          allow      requests in --scope may use only --models (others get a 403 in the
                     provider's own error shape, naming the policy, its owner and
                     --exception-path)
          deny       requests in --scope may not use --models
        Models: an exact model (claude-sonnet-4-5, any alias the price catalog knows),
        tier:premium|standard|economy, provider:openai, a prefix (claude-*) or *. Scopes are
        budget selectors: * or dimension=value pairs (use_case=autocomplete,env=dev).

        --dry-run changes no traffic: agents count what the policy would have routed or
        refused (`tollgate policy list` sums it over the fleet). Exceptions exempt a scope
        until a time, with a reason and an author: `tollgate policy except`.

        A policy is refused when set if it routes to a model the catalog does not know,
        across providers, or in a loop with other routes; the error says which. An agent
        that cannot apply one (an older catalog) keeps its previous version and says so
        (`tollgate agents`, REJECTED column; tollgate_policy_rejecting_agents).

        Listing takes the read-only or the admin token; changes the admin token. Every
        change is in the audit log (tollgate audit --target policy:<id>).
        """,
        subcommands: [PolicySet.self, PolicyList.self, PolicyShow.self, PolicyRemove.self, PolicyExcept.self, PolicyUnexcept.self])
}

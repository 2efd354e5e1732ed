import ArgumentParser

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Name API keys and tie them to a team, project, owner and cost center.",
        discussion: """
        Tollgate never sees a key in the clear: agents identify each one by a keyed hash (its
        key id, 32 hex characters) and a hint like openai:sk-…0001. A label gives the key a
        name that reports show, and the team and project its requests count for when they
        carry no X-Tollgate-Team / X-Tollgate-Project header of their own: on every agent
        (the mapping travels with the budgets), for budgets and for reports alike. FinOps
        practice: one key per workflow, mapped to its owner and cost center.

        Examples:
          tollgate keys list
          tollgate keys label sk-…0001 --name nightly-evals --team ml --project evals \\
              --owner alice@example.com --cost-center CC-1234
          tollgate keys label 9cd05ce2 --team ml        # change one field, keep the rest
          tollgate keys label 9cd05ce2 --clear          # remove the label

        Listing takes the read-only or the admin token; labelling the admin token. Every
        change is in the audit log (tollgate audit --target key:<key id>).
        """,
        subcommands: [KeysList.self, KeysLabel.self])
}

"""PynamoDB models and repositories of the one wacast table.

Key design (each entity module documents its own keys and GSIs):

- account:  pk ACCT#{account}  sk ACCT
- user:     pk USER#{email}    sk USER                 gsi1 ACCT#{account} / USER#{user}
- sender:   pk ACCT#{account}  sk SENDER#{sender}      gsi1 SENDERS / {sender}
- campaign: pk ACCT#{account}  sk CAMPAIGN#{campaign}
- message:  pk MSG#{message}   sk MSG                  gsi1 CAMPAIGN#{campaign} / {status}#{message}
            gsi2 PMID#{sender}#{provider id} / MSG     gsi3 UNPROVEN#{sender}#{phone} / {message}
"""

"""PynamoDB models and repositories of the one wacast table.

Key design (each entity module documents its own keys and GSIs):

- account:  pk ACCT#{account}  sk ACCT
- user:     pk USER#{email}    sk USER                 gsi1 ACCT#{account} / USER#{user}
- sender:   pk ACCT#{account}  sk SENDER#{sender}      gsi1 SENDERS / {sender}
- campaign: pk ACCT#{account}  sk CAMPAIGN#{campaign}
- campaign audience chunk: pk ACCT#{account}  sk CAMPAIGNAUD#{campaign}#{version}#{chunk}  (audience_ids.py)
- message:  pk MSG#{message}   sk MSG                  gsi6 (keys only) CONV#{account}#{phone} / {created}_{message}:
            conversations, receipts the host did not name the message of, unproven sends (messages
            written before listing items: gsi4 (keys only) MSGS#{campaign} / {created}_{message})
- campaign message listing: pk MSGS#{campaign}  sk {run}#{window seq}#{page} or L{created}#{message} (messages.py)
- counters of direct messages: pk ACCT#{account}  sk COUNTERS#DIRECT
- counters ledger: pk COUNTED#{first stream record of a batch}  sk LEDGER  (expires_at: TTL)
- contact:  pk ACCT#{account}  sk CONTACT#{contact}    gsi1 IMPORT#{account}#{batch} / CONTACT#{contact}
- tag:      pk ACCT#{account}  sk CTAG#{tag}#{contact} (one per contact and tag: a tag is one Query)
- opt-out:  pk ACCT#{account}  sk OPTOUT#{e164}
- template: pk ACCT#{account}  sk TEMPLATE#{template}
- API key:  pk ACCT#{account}  sk APIKEY#{key}  and  pk APIKEY#{sha256 of the key}  sk APIKEY
- sign-in:  pk LOGIN#{email}   sk WINDOW#{n}           (expires_at: TTL)
"""

"""The bot's core: what turns a loaded chat into posts on the networks, on time, once.

Module map (data flows top to bottom)::

    running       Bot: the one place that wires scheduler, outbox and collector for a run
    loading       store an event's plan in the outbox; reload without touching posted rows
    schedule      move a plan in time: a new start, a compressed clock (pure)
    outbox        claim the next due posts (one network, one per chat, lock order, leases)
    delivery      what the outbox hands out (claims, notices, outcomes) and its rules
    outcomes      how a claim ends: posted, retried, failed, given back; event finished
    orphans       posts a run of this machine left in flight when it ended: given back at start
    retry         backoff with jitter for failed posts (pure)
    asking        is a post asking the bot for a question, which, and the reply (pure)
    latejoiners   the job that finds such requests (store, notifications) and queues replies
    chatwindows   which chats answer such requests now, per network (welcome to wrap-up + grace)
    replies       the replies' outbox: queued once per asker and question, claimed, recorded
    scheduler     BotService: APScheduler jobs that claim, post and record, plus extra jobs
    atonce        run a piece of work on a few items side by side (posts sent at once)
    controls      live controls: pause, resume, skip, delay, post-now (one meaning each)
    postgroups    which posts a control means (a question with its reminder and follow-ups)
    runsettings   what `chatbot run` stores with its events: layout, recap link, late limit
    eventstatus   every post of an event and its state (read only)
    eventlist     every event in the store with its progress (read only)
    accountcheck  does the logged-in account match the one the question file names (pure)

The outbox rows are the source of truth; the service only moves them on.
"""

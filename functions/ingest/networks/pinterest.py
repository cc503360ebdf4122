"""Pinterest: no adapter, on purpose.

Pinterest is the network Klout users most missed, but its public API (v5) offers no webhook
subscription for organic activity: nothing is pushed when a Pin is saved, commented on or when an
account gains a follower. What exists is polling of the owner's own analytics
(``GET /v5/user_account/analytics``, ``GET /v5/pins/{id}/analytics``), which returns aggregate counts
(impressions, saves, pin clicks, outbound clicks) without the identities of the people who engaged.
Renown's score is built from engagement *edges* (who engaged with whom), so aggregates alone cannot
form part of the graph, and there is nothing to verify at ``/webhooks/pinterest``: the receiver answers
404 for it. If Pinterest adds engagement webhooks, an adapter here plus sample events is all it takes;
until then a future pull source could add a connected account's aggregate reach as a per-account
signal (``CountersRecord.followers``) without edges.
"""

from __future__ import annotations

REASON = "Pinterest's API has no webhooks for engagement and its analytics carry no engager identities"

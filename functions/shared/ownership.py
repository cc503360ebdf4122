"""One-time codes that prove a person owns a network account.

A person asks the API for a challenge on their account; the code is a hashtag, ``#renown`` and ten
letters or digits (``#renownk3m9x2q7ab``), which they post from that account (a post, a reply or a
mention). Every adapter already reads hashtags into an activity's terms, so ingest recognises the code
there (``functions.ingest.ownership``) and marks the challenge verified when the activity's actor is
the account the challenge names; a code seen from any other account is counted on the challenge, which
then refuses the token exchange. The code is never stored: the challenge lives under
``PROOF#<challenge_id(code)>``.
"""

from __future__ import annotations

import hashlib
import re
import secrets

CODE_PREFIX = "#renown"
CODE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no l, o, 0, 1: read aloud and typed by hand
CODE_LENGTH = 10
CODE_TERM = re.compile(rf"^{CODE_PREFIX}([{CODE_ALPHABET}]{{{CODE_LENGTH}}})$")
CODE_TTL_S = 3600  # the code must be posted within an hour
CHALLENGE_TTL_S = 86_400  # and the owner token fetched within a day
PROOF_KINDS = frozenset({"post", "reply", "mention", "quote", "comment"})


def new_code() -> str:
    """A fresh code, as the person posts it.

    Examples
    --------
    >>> code = new_code()
    >>> code.startswith("#renown"), len(code), CODE_TERM.match(code) is not None
    (True, 17, True)
    """
    return CODE_PREFIX + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def challenge_id(code: str) -> str:
    """The id of the challenge of ``code`` (a hash: the table never holds the code).

    Examples
    --------
    >>> challenge_id("#renownabcdefghij") == challenge_id("#RenownABCDEFGHIJ")
    True
    >>> len(challenge_id("#renownabcdefghij"))
    24
    """
    return hashlib.sha256(f"proof:{code.lower()}".encode()).hexdigest()[:24]


def codes_in(terms: tuple[str, ...] | list[str]) -> list[str]:
    """The codes among an activity's terms (hashtags come lower-cased).

    Examples
    --------
    >>> codes_in(("#higgs", "#renownabcdefghij", "cern"))
    ['#renownabcdefghij']
    """
    return [t for t in terms if CODE_TERM.match(t.lower())]

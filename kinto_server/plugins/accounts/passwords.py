"""Account passwords: bcrypt hashes, never the password itself."""

import bcrypt


def hash_password(password, rounds=12):
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=rounds)).decode("ascii")


def check_password(password, hashed):
    """True if ``password`` matches ``hashed`` (bcrypt compares in constant time)."""
    try:
        return bcrypt.checkpw(password.encode("utf-8"), hashed.encode("ascii"))
    except (ValueError, TypeError):
        return False

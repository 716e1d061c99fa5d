"""Patches where moto 5.2.5 differs from Cognito in ways cognito-sync relies on.

Each patch is listed in README.md ("Patches to moto"). Checked behaviours that needed no
patch: DescribeUserPool returns UsernameConfiguration, AutoVerifiedAttributes,
MfaConfiguration, UsernameAttributes (as given at CreateUserPool) and
EstimatedNumberOfUsers; custom attributes carry the `custom:` prefix; AdminGetUser finds
users by email/phone in UsernameAttributes pools; IAM role/policy calls and logs
GetLogEvents/FilterLogEvents work as in AWS.
"""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any

from moto.cognitoidp import models as cm
from moto.cognitoidp.responses import CognitoIdpResponse

from cognito_import import CognitoError, invalid, limit_exceeded
from emu_state import cfg, choice, chosen, setting


# 1. SchemaAttributes. moto keeps ONLY the attributes passed in CreateUserPool's Schema
#    when one is given, so a pool created with one custom attribute loses every standard
#    attribute (email, phone_number, ...). Cognito always has the standard attributes
#    [ATTR] and adds the given ones (overriding e.g. Required on standard attributes).
_orig_pool_init = cm.CognitoIdpUserPool.__init__


class UserDict(dict):
    """pool.users as a plain dict (moto uses an OrderedDict, whose iteration is ~20x
    slower) that counts its mutations, so ListUsers can cache one ordered snapshot per
    version instead of copying the whole pool for every page."""

    version = 0

    def __setitem__(self, k, v):
        self.version += 1
        super().__setitem__(k, v)

    def __delitem__(self, k):
        self.version += 1
        super().__delitem__(k)

    def pop(self, *a):
        self.version += 1
        return super().pop(*a)

    def snapshot(self) -> list:
        cached = getattr(self, "_snap", None)
        if cached is None or cached[0] != self.version:
            cached = (self.version, list(super().values()))
            self._snap = cached
        return cached[1]


def _pool_init(self, account_id: str, region: str, name: str, extended_config: dict[str, Any]):
    _orig_pool_init(self, account_id, region, name, extended_config)
    self.users = UserDict(self.users)
    merged: dict[str, Any] = {}
    for std_name, std_schema in cm.CognitoIdpUserPoolAttribute.STANDARD_SCHEMA.items():
        merged[std_name] = self.schema_attributes.get(std_name) or cm.CognitoIdpUserPoolAttribute(
            std_name, False, std_schema)
    for attr_name, attr in self.schema_attributes.items():
        if attr_name not in merged:
            merged[attr_name] = attr
    self.schema_attributes = merged


# 2. Case-insensitive pools. moto looks users up by exact username only. With
#    UsernameConfiguration.CaseSensitive=false Cognito treats usernames case-insensitively
#    [CASE] (AdminGetUser("ALICE") finds "alice"; AdminCreateUser("Alice") collides).
_orig_get_user = cm.CognitoIdpUserPool._get_user


def _get_user(self, username: str):
    user = _orig_get_user(self, username)
    if user is None and username and not (
            (self.extended_config.get("UsernameConfiguration") or {}).get("CaseSensitive", True)):
        low = username.lower()
        for u in list(self.users.values()):
            if u.username.lower() == low:
                return u
    return user


# 3. ListUsers. moto's generic paginator scans the whole pool for the token on every
#    page (quadratic: a 100k-user walk takes minutes) and accepts any Limit. Cognito:
#    Limit 0-60 (InvalidParameterException otherwise), PaginationToken until none
#    [MODEL] [LISTUSERS-GUIDE]; filters on `username`/`status` are case-sensitive, the
#    other searchable attributes case-insensitive [LISTUSERS-GUIDE].
_FILTER_RE = re.compile(r'^\s*([\w:]+)\s*(=|\^=)\s*"((?:[^"\\]|\\.)*)"\s*$')
_SEARCHABLE = {"username", "email", "phone_number", "name", "given_name", "family_name",
               "preferred_username", "cognito:user_status", "status", "sub"}


def _filter_users(users: list, filt: str) -> list:
    m = _FILTER_RE.match(filt)
    if not m:
        raise invalid("Error while parsing filter.")
    name, op, value = m.group(1), m.group(2), m.group(3).replace('\\"', '"').replace("\\\\", "\\")
    if name not in _SEARCHABLE:
        raise invalid(f"Invalid search attribute: {name}")
    sensitive = name in ("username", "status")
    if not sensitive:
        value = value.lower()

    def get(u) -> str | None:
        if name == "username":
            return u.username
        if name == "status":
            return "Enabled" if u.enabled else "Disabled"
        if name == "cognito:user_status":
            return str(u.status.value if hasattr(u.status, "value") else u.status)
        return u.attribute_lookup.get(name)

    out = []
    for u in users:
        v = get(u)
        if v is None:
            continue
        if not sensitive:
            v = v.lower()
        if (op == "=" and v == value) or (op == "^=" and v.startswith(value)):
            out.append(u)
    return out


def _filtered(users, snap: list, filt: str) -> list:
    """The users a filter selects, cached per pool version: a walk partitioned by a `sub`
    prefix pages through each partition, and filtering the whole pool for every page would
    make the emulator, not the quota, the bound."""
    cache = getattr(users, "_filtered", None)
    version = getattr(users, "version", None)
    if cache is None or cache[0] != version or version is None:
        cache = (version, {})
        try:
            users._filtered = cache
        except AttributeError:
            return _filter_users(snap, filt)
    hit = cache[1].get(filt)
    if hit is None:
        if len(cache[1]) >= 256:
            cache[1].clear()
        hit = cache[1][filt] = _filter_users(snap, filt)
    return hit


def list_users(self) -> str:
    pool_id = self._get_param("UserPoolId")
    limit = self._get_param("Limit")
    token = self._get_param("PaginationToken")
    filt = self._get_param("Filter")
    attributes_to_get = self._get_param("AttributesToGet")
    if limit is not None and not 0 <= int(limit) <= 60:
        raise invalid(f"1 validation error detected: Value '{limit}' at 'limit' failed to "
                      "satisfy constraint: Member must have value less than or equal to 60")
    if filt is not None and len(filt) > 256:
        raise invalid("1 validation error detected: Value at 'filter' failed to satisfy "
                      "constraint: Member must have length less than or equal to 256")
    pool = self.backend.describe_user_pool(pool_id)
    page_size = int(limit) if limit else 60
    snap = pool.users.snapshot() if isinstance(pool.users, UserDict) else list(pool.users.values())
    users = _filtered(pool.users, snap, filt) if filt else snap
    total = len(users)
    start = 0
    now = time.time()
    chain_started = now
    if token:
        try:
            decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
            start, key = int(decoded["i"]), decoded["u"]
            chain_started = float(decoded.get("s", chain_started))
            issued = float(decoded.get("t", chain_started))
            if decoded.get("f") != (filt or "") or decoded.get("p") != pool_id:
                raise ValueError
        except Exception:
            raise invalid("Invalid pagination token.")
        # A token lives an hour [LISTUSERS-GUIDE]. From when (switch `token_hour_start`:
        # the chain's first page, or the page that issued it) and the error an expired one
        # answers (switch `expired_token_error`) are undocumented: both chosen.
        born = chain_started if chosen("token_hour_start") else issued
        if now - born > float(setting("token_ttl_seconds")):
            raise CognitoError(choice("expired_token_error"), "Pagination token has expired.")
        # the user at the saved position may have moved (deletions): find it again
        if not (start < total and users[start].username == key):
            keys = [u.username for u in users]
            start = keys.index(key) if key in keys else min(start, total)
    page = users[start:start + page_size]
    out: dict[str, Any] = {"Users": [
        _user_json(u, attributes_to_get) for u in page]}
    nxt = start + page_size
    if nxt < total:
        out["PaginationToken"] = base64.urlsafe_b64encode(json.dumps(
            {"i": nxt, "u": users[nxt].username, "f": filt or "", "p": pool_id,
             "s": chain_started, "t": now}).encode()).decode()
    return json.dumps(out)


def _user_json(u, attributes_to_get) -> dict[str, Any]:
    attrs = [a for a in u.attributes
             if attributes_to_get is None or a["Name"] in attributes_to_get]
    return {
        "Username": u.username,
        "Attributes": attrs,
        "UserCreateDate": u.create_date.timestamp(),
        "UserLastModifiedDate": u.last_modified_date.timestamp(),
        "Enabled": u.enabled,
        "UserStatus": str(u.status.value if hasattr(u.status, "value") else u.status),
    }


# 4. Groups (SPEC §8, reference §10). moto creates, lists and joins groups, but checks none
#    of Cognito's limits: GroupNameType is 1-128 characters of [\p{L}\p{M}\p{S}\p{N}\p{P}]
#    [MODEL]; Precedence is >= 0 [MODEL]; Description at most 2048 [MODEL]; a pool holds at
#    most 10,000 groups and a user belongs to at most 100 [QUOTAS]; Limit on ListGroups,
#    ListUsersInGroup and AdminListGroupsForUser is 0-60 [MODEL]. At the pool's group quota
#    CreateGroup answers LimitExceededException (declared for it by the model). At the
#    user's 100 groups, AdminAddUserToGroup's answer is UNDOCUMENTED: chosen
#    InvalidParameterException (the model declares no LimitExceededException for it), switch
#    `group_limit_error` (emu_state.CHOICES) for LimitExceededException. The name check approximates the
#    Unicode classes: no whitespace or control characters. moto's ListUsersInGroup scanned
#    the whole pool on every page; it now lists the group's members, in username order.
MAX_GROUPS_PER_POOL = 10_000
MAX_GROUPS_PER_USER = 100
_GROUP_NAME_RE = re.compile(r"^[^\s\x00-\x1f\x7f]{1,128}$")

_orig_create_group = cm.CognitoIdpBackend.create_group
_orig_add_to_group = cm.CognitoIdpBackend.admin_add_user_to_group


def _check_limit(value) -> None:
    if value is not None and not 0 <= int(value) <= 60:
        raise invalid(f"1 validation error detected: Value '{value}' at 'limit' failed to "
                      "satisfy constraint: Member must have value less than or equal to 60")


def _create_group(self, user_pool_id, group_name, description, role_arn, precedence):
    if not isinstance(group_name, str) or not _GROUP_NAME_RE.match(group_name):
        raise invalid("1 validation error detected: Value at 'groupName' failed to satisfy "
                      "constraint: Member must satisfy regular expression pattern: "
                      "[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+")
    if precedence is not None and int(precedence) < 0:
        raise invalid("1 validation error detected: Value at 'precedence' failed to satisfy "
                      "constraint: Member must have value greater than or equal to 0")
    if description is not None and len(description) > 2048:
        raise invalid("1 validation error detected: Value at 'description' failed to satisfy "
                      "constraint: Member must have length less than or equal to 2048")
    pool = self.describe_user_pool(user_pool_id)
    if group_name not in pool.groups and len(pool.groups) >= MAX_GROUPS_PER_POOL:
        raise limit_exceeded(f"The user pool has reached its limit of {MAX_GROUPS_PER_POOL} groups.")
    return _orig_create_group(self, user_pool_id, group_name, description, role_arn, precedence)


def _add_user_to_group(self, user_pool_id, group_name, username):
    group = self.get_group(user_pool_id, group_name)
    user = self.admin_get_user(user_pool_id, username)
    if group not in user.groups and len(user.groups) >= MAX_GROUPS_PER_USER:
        import emu_state
        code = emu_state.choice("group_limit_error")
        raise CognitoError(code, f"The user has reached its limit of {MAX_GROUPS_PER_USER} groups.")
    return _orig_add_to_group(self, user_pool_id, group_name, username)


def list_users_in_group(self, user_pool_id, group_name):
    self.describe_user_pool(user_pool_id)
    group = self.get_group(user_pool_id, group_name)
    return sorted(group.users, key=lambda u: u.username)


def _with_limit_check(orig):
    def wrapped(self):
        _check_limit(self._get_param("Limit"))
        return orig(self)
    return wrapped


# 5. Sign-in of users imported with a password hash (SPEC §9). moto compares
#    AdminInitiateAuth's PASSWORD with the user's plain `password`; a user imported with a
#    hash has none. Cognito verifies the password against the imported hash [IMPORT, newer
#    copy]; here password_hashes.verify does (pinned bcrypt / argon2-cffi / hashlib). A
#    verified password becomes the user's password (Cognito's later handling of the hash
#    is UNDOCUMENTED); a wrong one is NotAuthorizedException, as for any user.
_orig_admin_initiate_auth = cm.CognitoIdpBackend.admin_initiate_auth


def _admin_initiate_auth(self, user_pool_id, client_id, auth_flow, auth_parameters):
    import password_hashes as ph
    if auth_flow in ("ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"):
        username = (auth_parameters or {}).get("USERNAME")
        password = (auth_parameters or {}).get("PASSWORD") or ""
        try:
            user = self.admin_get_user(user_pool_id, username)
        except Exception:
            user = None
        imported = getattr(user, "imported_password_hash", None) if user is not None else None
        if imported is not None and user.password is None:
            algorithm, hash_ = imported
            if not ph.verify(algorithm, hash_, password):
                raise cm.NotAuthorizedError("Incorrect username or password.")
            user.password = password
            try:
                return _orig_admin_initiate_auth(self, user_pool_id, client_id, auth_flow, auth_parameters)
            except Exception:
                user.password = None
                raise
    return _orig_admin_initiate_auth(self, user_pool_id, client_id, auth_flow, auth_parameters)


# 6. FilterLogEvents patterns. moto matches one bare or quoted term and lets anything else
#    through; CloudWatch Logs' term syntax [CWL filter pattern syntax] has several terms
#    (all must match), `?term` (at least one of them must match) and `-term` (must not
#    match), each bare or in double quotes. Case-sensitive, as CloudWatch is.
_TERM_RE = re.compile(r'([?-]?)(?:"((?:[^"\\]|\\.)*)"|(\S+))')


def _message_filter_init(self, pattern: str):
    self.terms = [(m.group(1), m.group(2) if m.group(2) is not None else m.group(3))
                  for m in _TERM_RE.finditer(pattern or "")]


def _message_filter_matches(self, message: str) -> bool:
    required = [t for p, t in self.terms if p == ""]
    optional = [t for p, t in self.terms if p == "?"]
    excluded = [t for p, t in self.terms if p == "-"]
    return (all(t in message for t in required)
            and (not optional or any(t in message for t in optional))
            and not any(t in message for t in excluded))


def install() -> None:
    cm.CognitoIdpBackend.admin_initiate_auth = _admin_initiate_auth
    from moto.logs import utils as logs_utils
    logs_utils.EventMessageFilter.__init__ = _message_filter_init
    logs_utils.EventMessageFilter.matches = _message_filter_matches
    cm.CognitoIdpUserPool.__init__ = _pool_init
    cm.CognitoIdpUserPool._get_user = _get_user
    CognitoIdpResponse.list_users = list_users
    cm.CognitoIdpBackend.create_group = _create_group
    cm.CognitoIdpBackend.admin_add_user_to_group = _add_user_to_group
    # keep moto's paginator around the faster member list
    paginated = cm.paginate(pagination_model=cm.PAGINATION_MODEL)(list_users_in_group)
    cm.CognitoIdpBackend.list_users_in_group = paginated
    for name in ("list_groups", "list_users_in_group", "admin_list_groups_for_user"):
        setattr(CognitoIdpResponse, name, _with_limit_check(getattr(CognitoIdpResponse, name)))


__all__ = ["install", "CognitoError"]

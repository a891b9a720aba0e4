"""Keep secrets off the site, out of exports and out of the build log: one masker for every string.

A string is masked where it has the shape of a credential: the rules of gitleaks
(``config/gitleaks.toml``) and detect-secrets (``detect_secrets/plugins``) for the common providers, a
URL carrying ``user:password@`` or a long token before ``@``, and an assignment such as ``password=...``
or ``"api_key": "..."`` inside a longer text. A value is masked whole when its key looks secret
(``db_password``, ``HF_TOKEN``, ``stripe_key``, ``AZURE_STORAGE_CONNECTION_STRING``) or when the key
names a provider and the value has that provider's secret shape (``aws_secret=<40 characters>``).

``SecretMasker.mask`` walks every field of a run record, whatever its type: every string, every mapping
key and value, every list and tuple item, nested records included, so a field added to the record later
is masked too. Fields whose type cannot hold text (metric histories) are skipped. The same masker checks
card text (``cards/loader.py``), ``modelcards pull`` exports and every problem message the build prints.
Only the secret part is replaced by ``[masked]``: a URL keeps its scheme and host, ``password=`` keeps
its name.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass
from functools import lru_cache
from operator import attrgetter
from typing import Any, Callable, Iterable, TypeVar

from ..errors import Problem

MASK = "[masked]"
KEY_LOOKS_SECRET = "the key looks secret"
KEY_MATCHES_PATTERN = "the key matches a configured pattern"
Masked = TypeVar("Masked")

# --- keys -----------------------------------------------------------------------------------------------

# Words that make a key secret. Matched against the key's words, not substrings, so that `author`,
# `tokenizer`, `max_tokens`, `n_keys` and `key_column` stay visible while `hf_token` and `apiKey` do not.
SECRET_KEY_WORDS = frozenset({
    "password", "passwd", "pwd", "passphrase", "passcode", "secret", "secrets", "token", "credential",
    "credentials", "creds", "auth", "authorization", "apikey", "privatekey", "accesskey", "secretkey", "cookie",
    "dsn", "webhook", "webhooks", "connstr", "connectionstring", "jwt",
})
SECRET_KEY_PAIRS = frozenset({
    ("api", "key"), ("private", "key"), ("access", "key"), ("secret", "key"), ("client", "secret"),
    ("session", "key"), ("account", "key"), ("master", "key"), ("signing", "key"), ("encryption", "key"),
    ("license", "key"), ("shared", "key"), ("sas", "url"), ("sas", "uri"), ("sas", "key"),
    ("connection", "string"), ("conn", "string"), ("conn", "str"),
})
# `token` is also a unit of text: `pad_token_id`, `eos_token`, `token_count` and `max_tokens` are settings.
ORDINARY_TOKEN_WORDS = frozenset({
    "pad", "eos", "bos", "unk", "sep", "cls", "mask", "special", "start", "end", "id", "ids", "count", "counts",
    "length", "len", "limit", "budget", "type", "size", "num", "n", "max", "min", "per",
})
# `<provider>_key` (and `<provider>_<x>_key`, as in AZURE_STORAGE_KEY) is a credential.
PROVIDERS = frozenset({
    "aws", "azure", "gcp", "google", "github", "gitlab", "bitbucket", "slack", "stripe", "openai", "anthropic",
    "claude", "hf", "huggingface", "npm", "pypi", "sendgrid", "twilio", "mailgun", "mailchimp", "databricks",
    "discord", "telegram", "shopify", "heroku", "datadog", "sentry", "wandb", "comet", "neptune", "pinecone",
    "cohere", "mistral", "groq", "replicate", "openrouter", "deepseek", "gemini", "kaggle", "algolia",
    "firebase", "supabase", "cloudflare", "digitalocean", "snowflake", "pagerduty", "okta", "auth0",
    "atlassian", "jira", "docker", "dockerhub", "circleci", "travis", "vercel", "netlify", "paypal", "square",
})
# A provider named in the key, and a value with that provider's secret shape: detect-secrets' AWS rule
# (`aws.{0,20}?(key|pwd|token...).{0,20}?[0-9a-zA-Z/+]{40}`) and gitleaks' heroku, discord, mailgun and
# twilio rules, which also need the name beside the value.
PROVIDER_VALUE_SHAPES: dict[str, tuple[str, str]] = {
    "aws": ("an AWS secret access key", r"[A-Za-z0-9/+]{40}"),
    "heroku": ("a Heroku API key", r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
    "discord": ("a Discord token", r"[a-f0-9]{64}|[A-Za-z0-9=_-]{32}"),
    "mailgun": ("a Mailgun key", r"(?:key-|pubkey-)?[a-f0-9]{32}|[a-h0-9]{32}-[a-h0-9]{8}-[a-h0-9]{8}"),
    "twilio": ("a Twilio auth token", r"[0-9a-fA-F]{32}"),
}
_PROVIDER_SHAPES = {word: (reason, re.compile(shape)) for word, (reason, shape) in PROVIDER_VALUE_SHAPES.items()}

# --- values ---------------------------------------------------------------------------------------------

# Credential shapes, from gitleaks' rules and detect-secrets' plugins. A pattern may start with a group
# named `keep`: that part stays readable (a URL's scheme, the `AccountKey=` of a connection string).
# Order matters where two could match at one place: the first wins. Tokens are bounded by letters and
# digits rather than by `\b`, so that `loss_AKIA...` and `x_ghp_...` are found too.
_S, _E = r"(?<![A-Za-z0-9])", r"(?![A-Za-z0-9])"
VALUE_PATTERNS: dict[str, str] = {
    "a URL with a user and password": r"(?P<keep>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s:@?#]+:[^/\s?#]+(?=@)",
    "a URL with a token as its user": r"(?P<keep>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[A-Za-z0-9_.~%-]{20,}(?=@)",
    "a private key": r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
                     r"(?:-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----|$)",
    "an AWS access key": _S + r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}" + _E,
    "a GitHub token": _S + r"(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_\w{22,255})",
    "a GitLab token": _S + r"(?:gl(?:pat|dt|rt|cbt|ptt|ft|imt|agent|oas|soat|ffct)-[\w-]{20,}|GR1348941[\w-]{20,})",
    "a Slack token": _S + r"(?:xox[abposre]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,})",
    "a Slack webhook": r"(?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]+",
    "a Discord webhook": r"https?://(?:(?:canary|ptb)\.)?discord(?:app)?\.com/api/webhooks/\d+/[\w-]+",
    "a Microsoft Teams webhook": r"https?://[\w.-]+\.webhook\.office\.com/webhookb2/\S+",
    "a Stripe key": _S + r"(?:(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,99}|whsec_[A-Za-z0-9]{20,})",
    "an Anthropic key": _S + r"sk-ant-[a-z]+\d*-[\w-]{20,}",
    "an OpenAI key": _S + r"sk-(?:(?:proj|svcacct|admin|None)-[\w-]{20,}|[A-Za-z0-9]{20,}T3BlbkFJ[A-Za-z0-9]{20,}"
                     r"|[A-Za-z0-9]{32,}" + _E + ")",
    "a Hugging Face token": _S + r"(?:hf_|api_org_)[A-Za-z0-9]{30,}" + _E,
    "a Google API key": _S + r"AIza[\w-]{35}",
    "a Google OAuth client secret": _S + r"GOCSPX-[\w-]{20,}",
    "an npm token": _S + r"npm_[A-Za-z0-9]{36}" + _E + r"|(?P<keep>_authToken\s*=\s*)[^\s'\"]+",
    "a PyPI token": _S + r"pypi-AgE[\w-]{50,}",
    "a SendGrid key": _S + r"SG\.[\w-]{16,32}\.[\w-]{16,64}",
    "a Twilio key": _S + r"(?:AC|SK)[0-9a-fA-F]{32}" + _E,
    "a Mailgun key": _S + r"(?:key|pubkey)-[0-9a-f]{32}" + _E,
    "a Mailchimp key": _S + r"[0-9a-f]{32}-us\d{1,2}" + _E,
    "a Databricks token": _S + r"dapi[0-9a-f]{32}(?:-\d)?" + _E,
    "a JWT": _S + r"eyJ[\w-]{5,}\.eyJ[\w-]{5,}\.[\w-]*",
    "a Discord bot token": _S + r"[MNO][\w-]{23,25}\.[\w-]{6}\.[\w-]{27,38}" + _E,
    "a Telegram bot token": _S + r"\d{8,10}:A[\w-]{34}" + _E,
    "a Shopify token": _S + r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}" + _E,
    "a Heroku API key": _S + r"HRKU-AA[\w-]{58}",
    "an Azure storage key": r"(?P<keep>" + _S + r"(?i:AccountKey|SharedAccessKey)\s*=\s*)[A-Za-z0-9+/=]{20,}",
    "an Azure shared access signature": r"(?P<keep>(?<![\w-])sig=)[A-Za-z0-9%+/=_-]{20,}",
    "an Azure client secret": r"(?<![\w~.-])[\w~.]{3}\dQ~[\w~.-]{31,34}",
    "a bearer or basic auth header": r"(?P<keep>\b(?:Bearer|Basic) +)(?=[A-Za-z._~+/=-]*\d)[A-Za-z0-9+/=._~-]{16,}",
}
# What every built-in pattern starts with. One search of this cheap pattern clears nearly every text;
# the full patterns run only when it matches. Each text's verdict is cached: keys, tag values and most
# params repeat from run to run (benchmarks/run_read_speed.py measures the whole run-reading stage).
# Every alternative starts with a literal character, so that the regular expression engine skips to the
# places where one of those characters stands (a character class first, as `[sr]k_` was, made it try
# every alternative at every place: 3.5 times slower on a run id or a file path).
_BUILT_IN_PREFIXES = (
    r"A(?:3T|KIA|SIA|BIA|CCA|GPA|IDA|ROA|IPA|NPA|NVA)|gh[pousr]_|github_pat_|gl[a-z]{1,6}-|GR1348941|xox|xapp-"
    r"|hooks\.slack|webhook|sk_(?:live|test|prod)_|rk_(?:live|test|prod)_|whsec_|sk-|hf_|api_org_|AIza|GOCSPX-"
    r"|npm_|_authToken"
    r"|pypi-|SG\.|AC|SK|key-|dapi|eyJ|PRIVATE KEY|shp(?:at|ca|pa|ss)_|HRKU-|AccountKey|SharedAccessKey|sig="
    r"|Q~|-us\d|Bearer |Basic "
)
# Shapes whose start is a common character, each behind a literal found by a plain substring search.
_GATED_PREFIXES = (("@", re.compile(r"://[^/\s@]*@")), (":A", re.compile(r"\d:A[\w-]{34}")),
                   (".", re.compile(r"[MNO][\w-]{23,25}\.[\w-]{6}\.")))
# The only built-in shapes that can match a text of lower-case ASCII letters, digits and dashes (a run id, a
# commit, a digest, a UUID, a run name), each with a literal it cannot match without. Such a text holding
# none of them is cleared without a regular expression. A new value pattern that can match such a text
# needs its literal here (tests/test_secrets.py plants one of each).
_LOWER_CASE_SHAPES = ("gl", "xox", "xapp-", "sk-", "key-", "-us", "dapi")
_LOWER_CASE_SHAPE = re.compile("|".join(map(re.escape, _LOWER_CASE_SHAPES)))
# Lower-case stems of the names that make an assignment secret (see _ASSIGNMENT).
_ASSIGNMENT_STEMS = ("pass", "pwd", "secret", "token", "key", "cred", "auth", "cookie", "dsn", "conn", "webhook",
                     "jwt", "aws", "heroku", "discord", "mailgun", "twilio")
# `name=value`, `name: value`, `"name": "value"` inside a longer text (a command line, a connection
# string, a JSON blob): the value is masked when the name looks secret, by the same rules as keys.
_ASSIGNMENT = re.compile(
    r"(?P<name>[A-Za-z_][\w.-]{0,80})['\"]?[ \t]*(?P<sep>=|:(?!//))[ \t]*['\"]?"
    r"(?P<value>(?:(?:Bearer|Basic|Token|bearer|basic|token) +)?(?:\{[^}\n]*\}|[^\s'\";,&<>]+))")


# Values under a secret-looking name that hold no secret: placeholders and references to one kept elsewhere
# (`password=${PGPASSWORD}`, `api_key: None`, `token: <your token>`).
_PLACEHOLDER = re.compile(r"(?i)none|null|nil|true|false|n/?a|redacted|masked|\**|x+|<[^<>]*>|\$\{?\w+\}?"
                          r"|\{\{[^{}]*\}\}|%\(\w+\)s|(?:env|secret|vault):[\w/.-]+")


@dataclass(frozen=True)
class MaskedValue:
    """One masked value: which run, which field, and why (never the value itself)."""

    run: str
    where: str  # e.g. "params.db_password" or "inputs[0].namespace"
    reason: str
    file: str | None = None

    def __str__(self) -> str:
        prefix = f"{self.file}: " if self.file else ""
        return f"{prefix}{self.run} {self.where} ({self.reason})"


class SecretMasker:
    """Masks secrets in run records, texts and problem messages; extra patterns come from the settings.

    Raises ``re.error`` for an extra pattern that is not a regular expression.
    """

    def __init__(self, extra_key_patterns: Iterable[str] = (), extra_value_patterns: Iterable[str] = ()):
        extra_keys, extra_values = tuple(extra_key_patterns), tuple(extra_value_patterns)
        # What this masker adds to the built-in rules, which are its code: a cache of masked records is keyed by both.
        self.rules = (extra_keys, extra_values)
        self._extra_keys = [re.compile(p, re.IGNORECASE) for p in extra_keys]
        for pattern in extra_values:
            re.compile(pattern)  # a broken pattern is reported as itself, not as part of the alternation
        patterns = {**VALUE_PATTERNS, **{f"the pattern {p!r}": p for p in extra_values}}
        self._reasons = list(patterns)
        self._keeps = [bool(re.search(r"\(\?P<keep>", p)) for p in patterns.values()]
        # One alternation, one pass per text; the outer group that matched names the rule.
        self._values = re.compile("|".join(
            f"(?P<v{i}>{p.replace('(?P<keep>', f'(?P<k{i}>')})" for i, p in enumerate(patterns.values())))
        self._prefilter = re.compile("|".join([_BUILT_IN_PREFIXES, *(f"(?:{p})" for p in extra_values)]))
        self._only_built_in = not extra_values  # an extra pattern may match any text
        self.key_reason = lru_cache(maxsize=8192)(self._key_reason)
        self._key_shape = lru_cache(maxsize=8192)(self._provider_shape)
        self._plain: set[str] = set()  # texts the prefilter does not match
        self._plain_keys: set[str] = set()  # keys that are neither secret nor suspect texts

    # --- run records ---------------------------------------------------------------------------------

    def mask(self, records: Iterable[Masked]) -> tuple[list[Masked], list[MaskedValue]]:
        """Records with every secret replaced by ``[masked]``, and where that happened."""
        masked: list[MaskedValue] = []
        result = []
        for record in records:
            if not self._needs_masking(record):
                result.append(record)  # the common case: every text already known plain, or cleared by the prefilter
                continue
            found: list[tuple[str, str]] = []
            cleaned = self._masked(record, "", found)
            if found:
                origin = getattr(cleaned, "origin", None)
                run = getattr(cleaned, "ref", "")
                masked += [MaskedValue(run, where, reason, origin.path if origin else None) for where, reason in found]
            result.append(cleaned if found else record)
        return result, masked

    def _needs_masking(self, value: Any) -> bool:
        """Whether anything in ``value`` may need masking: every string and key goes through the prefilter.

        Written for speed: it sees every string of every run and nearly always answers no. Texts and keys
        already found harmless are remembered in sets, so a mapping of them is cleared by one C-level
        ``issuperset`` instead of a loop.
        """
        plain = self._plain
        if isinstance(value, dict):
            if not self._plain_keys.issuperset(value):
                for key, item in value.items():
                    if isinstance(key, str) and key not in self._plain_keys:
                        if self._key_needs_a_look(key):
                            if type(item) is not str or item not in ("", MASK):
                                return True
                        else:
                            self._remember(self._plain_keys, key)
            items: Iterable[Any] = value.values()
            if type(next(iter(items), None)) is str:  # a mapping of texts (params, tags)
                try:
                    items = set(items).difference(plain)  # only the values not known plain, found in C
                except TypeError:  # an unhashable value (a list, a mapping) among them: look at every value
                    pass
        elif isinstance(value, (list, tuple)):
            items = value
        else:
            items = _text_fields_getter(type(value))(value)
        for item in items:
            if type(item) is str:  # most items: no lookup of their kind
                if item not in plain and self._suspect(item):
                    return True
                continue
            kind = _KINDS.get(type(item)) or _kind_of(type(item))
            if kind is _TEXT:
                if item not in plain and self._suspect(item):
                    return True
            elif kind is _WALK and item and self._needs_masking(item):
                return True
        return False

    def _suspect(self, text: str) -> bool:
        """Whether the prefilter matches ``text``; texts it does not match are remembered as plain."""
        if self._prefilter_matches(text):
            return True
        self._remember(self._plain, text)
        return False

    @staticmethod
    def _remember(known: set[str], text: str) -> None:
        if len(known) >= _MAX_REMEMBERED:
            known.clear()  # unique texts (run ids, times) would otherwise grow it without bound
        known.add(text)

    def _prefilter_matches(self, text: str) -> bool:
        if self._only_built_in and _lower_case_word(text):
            return False
        if self._prefilter.search(text):
            return True
        if any(literal in text and pattern.search(text) for literal, pattern in _GATED_PREFIXES):
            return True
        if "=" in text or ":" in text:
            lowered = text.lower()
            return any(stem in lowered for stem in _ASSIGNMENT_STEMS)
        return False

    def _key_needs_a_look(self, key: str) -> bool:
        return bool(self.key_reason(key) or self._key_shape(key) or (key not in self._plain and self._suspect(key)))

    def _masked(self, value: Any, where: str, found: list[tuple[str, str]]) -> Any:
        if isinstance(value, str):
            cleaned, reason = self.mask_text(value)
            if reason:
                found.append((where, reason))
            return cleaned
        if isinstance(value, dict):
            result: dict[Any, Any] = {}
            for key, item in value.items():
                name = key
                if isinstance(key, str):
                    name, reason = self.mask_text(key)
                    if reason:
                        found.append((_child(where, name), f"{reason}, in a name"))
                    while name in result:  # two names masked alike: keep both
                        name += "'"
                path = _child(where, name)
                reason = self.entry_reason(key, item) if isinstance(key, str) and isinstance(item, str) else None
                if reason:
                    found.append((path, reason))
                    result[name] = MASK
                else:
                    result[name] = self._masked(item, path, found)
            return result
        if isinstance(value, (list, tuple)):
            return type(value)(self._masked(item, f"{where}[{i}]", found) for i, item in enumerate(value))
        fields = _text_fields_of(type(value))
        if fields:
            changes = {name: self._masked(getattr(value, name), _child(where, name), found) for name in fields}
            return dataclasses.replace(value, **changes)
        return value

    # --- texts -----------------------------------------------------------------------------------------

    def mask_text(self, value: str) -> tuple[str, str | None]:
        """The text with credential-shaped parts replaced, and why (None when nothing was found)."""
        if value in self._plain or not self._suspect(value):
            return value, None
        reasons: list[str] = []

        def shape(match: re.Match) -> str:
            index = int(match.lastgroup[1:])
            reasons.append(self._reasons[index])
            keep = match.group(f"k{index}") if self._keeps[index] else None
            return (keep or "") + MASK

        value = self._values.sub(shape, value)
        if "=" in value or ":" in value:
            value = self._mask_assignments(value, reasons)
        return value, (reasons[0] if reasons else None)

    def _mask_assignments(self, text: str, reasons: list[str]) -> str:
        """Mask the values of secret-looking assignments; the value of any other is searched on, so that
        ``url: https://host/?token=...`` is found inside ``url: ...``."""
        parts, position, done = [], 0, 0
        while (match := _ASSIGNMENT.search(text, position)) is not None:
            reason = self._assignment_reason(match)
            if reason is None:
                position = match.start("value")  # after the name: a credential may follow inside the value
                continue
            reasons.append(reason)
            parts += [text[done:match.start("value")], MASK]
            position = done = match.end()
        return "".join(parts) + text[done:] if parts else text

    def text_reason(self, value: str) -> str | None:
        """Why ``value`` holds a credential, or None."""
        return self.mask_text(value)[1]

    def entry_reason(self, key: str, value: str) -> str | None:
        """Why the whole ``value`` under ``key`` is secret: the key looks secret, or names a provider whose
        secret shape the value has. None for an empty or already masked value."""
        if not value or value == MASK or _PLACEHOLDER.fullmatch(value.strip()):
            return None
        return self.key_reason(key) or _shape_reason(self._key_shape(key), value.strip())

    def mask_problems(self, problems: Iterable[Problem]) -> list[Problem]:
        """Problems whose messages and key paths quote no credential (they go to the build log)."""
        result = []
        for problem in problems:
            message, in_message = self.mask_text(problem.message)
            key_path, in_key_path = self.mask_text(problem.key_path)
            changed = in_message or in_key_path
            result.append(dataclasses.replace(problem, message=message, key_path=key_path) if changed else problem)
        return result

    def _assignment_reason(self, match: re.Match) -> str | None:
        value = match["value"]
        if MASK in value:  # masked by its shape already
            return None
        if match["sep"] == ":" and not _token_like(value):
            return None  # "Secret: the model ...": prose, not a credential
        reason = self.entry_reason(match["name"], value.strip("'\""))
        return f"a value named '{match['name']}'" if reason == KEY_LOOKS_SECRET else reason

    def _key_reason(self, key: str) -> str | None:
        words = _key_words(key)
        secret_words = {word for word in words if word in SECRET_KEY_WORDS}
        if secret_words == {"token"} and ORDINARY_TOKEN_WORDS.intersection(words):
            secret_words.clear()
        if secret_words or any(pair in SECRET_KEY_PAIRS for pair in zip(words, words[1:])):
            return KEY_LOOKS_SECRET
        for i, word in enumerate(words):
            if word in PROVIDERS and "key" in words[i + 1:i + 3]:
                return KEY_LOOKS_SECRET
        if any(pattern.search(key) for pattern in self._extra_keys):
            return KEY_MATCHES_PATTERN
        return None

    @staticmethod
    def _provider_shape(key: str) -> tuple[str, re.Pattern] | None:
        return next((_PROVIDER_SHAPES[word] for word in _key_words(key) if word in _PROVIDER_SHAPES), None)


def without_credentials(uri: str) -> str:
    """A URL with its user part masked (a token may stand there alone), for messages naming a server."""
    return _URL_USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", uri)


_URL_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@]+@")


def mask_records(records: Iterable[Masked], *, extra_key_patterns: Iterable[str] = (),
                 extra_value_patterns: Iterable[str] = ()) -> tuple[list[Masked], list[MaskedValue]]:
    """Records with every secret-looking value replaced by ``[masked]``, and where that happened."""
    return SecretMasker(extra_key_patterns, extra_value_patterns).mask(records)


def _key_words(key: str) -> list[str]:
    """``awsSecretAccessKey`` -> aws, secret, access, key; ``DB_PASSWORD`` -> db, password."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key)
    return [word for word in re.split(r"[^a-zA-Z0-9]+", spaced.lower()) if word]


def _shape_matches(shape: tuple[str, re.Pattern] | None, value: str) -> bool:
    return shape is not None and shape[1].fullmatch(value.strip()) is not None


def _shape_reason(shape: tuple[str, re.Pattern] | None, value: str) -> str | None:
    return shape[0] if shape is not None and shape[1].fullmatch(value) else None


def _token_like(value: str) -> bool:
    """A value after `name:` that reads as a credential rather than a word of prose."""
    return len(value) >= 6 and not value.isalpha()


def _lower_case_word(text: str) -> bool:
    """Lower-case ASCII letters, digits and dashes only, with none of ``_LOWER_CASE_SHAPES``: a text
    no built-in shape matches. A string method or two, where the prefilter's regular expression
    costs several microseconds on a 40-character commit hash."""
    letters = text.replace("-", "") if "-" in text else text
    return (letters.isascii() and letters.isalnum() and (letters.islower() or letters.isdigit())
            and not _LOWER_CASE_SHAPE.search(text))


def _child(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _text_fields_of(cls: type) -> tuple[str, ...]:
    """``_text_fields`` of a dataclass, () for any other type; a dictionary lookup once known."""
    fields = _TEXT_FIELDS.get(cls)
    if fields is None:
        fields = _TEXT_FIELDS[cls] = _text_fields(cls) if dataclasses.is_dataclass(cls) else ()
    return fields


_TEXT_FIELDS: dict[type, tuple[str, ...]] = {}


def _text_fields_getter(cls: type) -> Callable[[Any], tuple]:
    """A function giving the values of ``_text_fields_of(cls)`` as a tuple, in one C-level call."""
    getter = _TEXT_FIELD_GETTERS.get(cls)
    if getter is None:
        fields = _text_fields_of(cls)
        if len(fields) > 1:
            getter = attrgetter(*fields)
        else:
            getter = (lambda value: (getattr(value, fields[0]),)) if fields else (lambda value: ())
        _TEXT_FIELD_GETTERS[cls] = getter
    return getter


_TEXT_FIELD_GETTERS: dict[type, Callable[[Any], tuple]] = {}
# What a value of each type is to the masker: text, something to walk, or opaque (numbers, None, a
# metric series); a dictionary lookup once known.
_TEXT, _WALK, _OPAQUE = "text", "walk", "opaque"
_KINDS: dict[type, str] = {str: _TEXT, int: _OPAQUE, float: _OPAQUE, bool: _OPAQUE, type(None): _OPAQUE}


def _kind_of(cls: type) -> str:
    if issubclass(cls, str):
        kind = _TEXT
    elif issubclass(cls, (dict, list, tuple)) or _text_fields_of(cls):
        kind = _WALK
    else:
        kind = _OPAQUE
    _KINDS[cls] = kind
    return kind
_MAX_REMEMBERED = 200_000


@lru_cache(maxsize=None)
def _text_fields(cls: type) -> tuple[str, ...]:
    """The fields of a dataclass whose declared type can hold text; a metric history of numbers cannot."""
    hints = typing.get_type_hints(cls)
    return tuple(f.name for f in dataclasses.fields(cls) if _can_hold_text(hints.get(f.name, Any)))


def _can_hold_text(hint: Any) -> bool:
    if hint in (int, float, bool, type(None)):
        return False
    if dataclasses.is_dataclass(hint):
        return bool(_text_fields(hint))
    args = typing.get_args(hint)
    if typing.get_origin(hint) is not None and args:
        return any(_can_hold_text(arg) for arg in args if arg is not Ellipsis)
    return True  # str, Any, a bare list or dict: anything could be inside

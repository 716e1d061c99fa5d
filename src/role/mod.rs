//! The one shared, persistent IAM role that Cognito assumes to write an import job's
//! CloudWatch logs: the policy documents cognito-sync creates it with, the check of a role
//! that already exists, and the retry rule for a role IAM has not propagated yet.
//!
//! Pure: documents are `serde_json` values, and nothing here calls AWS. The IAM calls are in
//! [`aws`], the only module that holds the IAM client.
//!
//! What the role needs comes from reference `cognito-import.md` §6 (\[ROLE\]): trust
//! `cognito-idp.amazonaws.com` with `sts:AssumeRole`, and `logs:CreateLogGroup`,
//! `logs:CreateLogStream`, `logs:DescribeLogStreams`, `logs:PutLogEvents` on
//! `arn:aws:logs:REGION:ACCOUNT:log-group:/aws/cognito/*`. An `aws:SourceAccount` condition
//! on the trust is not in Cognito's docs, so it is added only with `import.scoped_trust`
//! (SPEC §6 step 3).

pub mod aws;

use std::fmt;
use std::time::Duration;

use serde_json::{Value, json};

/// The service that assumes the role.
pub const SERVICE_PRINCIPAL: &str = "cognito-idp.amazonaws.com";
/// The inline policy cognito-sync puts on a role it creates.
pub const LOGS_POLICY_NAME: &str = "cognito-sync-import-logs";
/// Exactly the CloudWatch Logs actions Cognito needs \[ROLE\].
pub const LOG_ACTIONS: [&str; 4] =
    ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"];
/// The condition key of `import.scoped_trust`.
pub const SOURCE_ACCOUNT_KEY: &str = "aws:SourceAccount";

/// The resource every log action must be allowed on: Cognito's log groups in one account
/// and region.
pub fn log_groups_arn(region: &str, account: &str) -> String {
    format!("arn:aws:logs:{region}:{account}:log-group:/aws/cognito/*")
}

/// The trust policy of a created role: Cognito may assume it; with `source_account`, only
/// on behalf of that account (`import.scoped_trust`).
pub fn trust_policy(source_account: Option<&str>) -> Value {
    let mut statement = json!({
        "Effect": "Allow",
        "Principal": {"Service": SERVICE_PRINCIPAL},
        "Action": "sts:AssumeRole",
    });
    if let Some(account) = source_account {
        statement["Condition"] = json!({"StringEquals": {SOURCE_ACCOUNT_KEY: account}});
    }
    json!({"Version": "2012-10-17", "Statement": [statement]})
}

/// The permissions policy of a created role: the four log actions, on Cognito's log groups
/// of this account and region, and nothing else.
pub fn permissions_policy(region: &str, account: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": LOG_ACTIONS,
            "Resource": log_groups_arn(region, account),
        }],
    })
}

/// `import.role` as written: a role name, or a role ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleRef {
    Name(String),
    Arn {
        arn: String,
        /// The account in the ARN.
        account: String,
        /// The path between `role/` and the name, with its slashes (`/` when none).
        path: String,
        name: String,
    },
}

impl RoleRef {
    /// Reads `import.role`. Anything that starts with `arn:` must be a role ARN
    /// (`arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME`).
    pub fn parse(text: &str) -> Result<RoleRef, String> {
        if !text.starts_with("arn:") {
            return Ok(RoleRef::Name(text.to_owned()));
        }
        let bad = || format!("`{text}` is not an IAM role ARN (`arn:aws:iam::ACCOUNT:role/NAME`)");
        let parts: Vec<&str> = text.splitn(6, ':').collect();
        let [_, _partition, service, region, account, resource] = parts[..] else { return Err(bad()) };
        let full = resource.strip_prefix("role/").ok_or_else(bad)?;
        if service != "iam" || !region.is_empty() || account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let (path, name) = match full.rfind('/') {
            Some(i) => (format!("/{}", &full[..=i]), &full[i + 1..]),
            None => ("/".to_owned(), full),
        };
        if name.is_empty() {
            return Err(bad());
        }
        Ok(RoleRef::Arn { arn: text.to_owned(), account: account.to_owned(), path, name: name.to_owned() })
    }

    /// The role name, which is what IAM's role operations take.
    pub fn name(&self) -> &str {
        match self {
            RoleRef::Name(name) | RoleRef::Arn { name, .. } => name,
        }
    }
}

impl fmt::Display for RoleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoleRef::Name(name) => f.write_str(name),
            RoleRef::Arn { arn, .. } => f.write_str(arn),
        }
    }
}

/// The account id in an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:...`). This is how the
/// account is learned without an STS call: from the role IAM returns.
pub fn account_of_arn(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// Decodes a policy document as IAM returns it: URL-encoded JSON (RFC 3986). Plain JSON is
/// accepted too (some emulators and SDK layers decode it already).
pub fn decode_document(text: &str) -> Result<Value, String> {
    let text = text.trim();
    let json = if text.starts_with('{') { text.to_owned() } else { percent_decode(text)? };
    serde_json::from_str(&json).map_err(|e| format!("not JSON: {e}"))
}

fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            let byte = hex.and_then(|h| u8::from_str_radix(h, 16).ok()).ok_or("a bad `%` escape")?;
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "not UTF-8 once URL-decoded".to_owned())
}

/// What an existing role is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The role's account (from its ARN).
    pub account: &'a str,
    /// The pool's region: Cognito writes the logs there.
    pub region: &'a str,
    /// `import.scoped_trust`: the trust must carry `aws:SourceAccount`.
    pub scoped_trust: bool,
}

/// One precise reason why Cognito could not use a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleFinding {
    /// The trust policy has no statement naming the Cognito service principal.
    TrustMissingPrincipal,
    /// The principal is named, but no statement allows it `sts:AssumeRole`.
    TrustMissingAssumeRole,
    /// A Deny statement stops Cognito from assuming the role.
    TrustDenied,
    /// `import.scoped_trust` is set, but the trust has no `aws:SourceAccount` condition.
    TrustMissingSourceAccount { account: String },
    /// The trust's `aws:SourceAccount` names other accounts than the role's.
    TrustWrongSourceAccount { found: Vec<String>, account: String },
    /// The only statements that trust Cognito carry a condition cognito-sync cannot
    /// evaluate (anything but `aws:SourceAccount` / `aws:SourceArn`).
    TrustUnsupportedCondition { condition: String },
    /// No statement allows this action.
    MissingAction { action: String },
    /// The action is allowed only under a condition, which cognito-sync does not evaluate.
    ConditionalAction { action: String },
    /// The action is allowed, but not on all of Cognito's log groups in this region.
    ResourceNotCovered { action: String, needed: String, granted: Vec<String> },
    /// A Deny statement covers the action on Cognito's log groups.
    ActionDenied { action: String },
    /// A policy document could not be read.
    Unreadable { what: String, reason: String },
}

impl fmt::Display for RoleFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |items: &[String]| items.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ");
        match self {
            RoleFinding::TrustMissingPrincipal => {
                write!(f, "the trust policy does not name the principal `{SERVICE_PRINCIPAL}`")
            }
            RoleFinding::TrustMissingAssumeRole => {
                write!(f, "the trust policy does not allow `{SERVICE_PRINCIPAL}` the action `sts:AssumeRole`")
            }
            RoleFinding::TrustDenied => {
                write!(f, "the trust policy denies `sts:AssumeRole` to `{SERVICE_PRINCIPAL}`")
            }
            RoleFinding::TrustMissingSourceAccount { account } => write!(
                f,
                "`import.scoped_trust` is set, but the trust policy has no `{SOURCE_ACCOUNT_KEY}` condition \
                 for account `{account}`"
            ),
            RoleFinding::TrustWrongSourceAccount { found, account } => write!(
                f,
                "the trust policy's `{SOURCE_ACCOUNT_KEY}` is {}, not the role's account `{account}`",
                list(found)
            ),
            RoleFinding::TrustUnsupportedCondition { condition } => write!(
                f,
                "the trust policy allows `{SERVICE_PRINCIPAL}` only under the condition {condition}, \
                 which Cognito is not documented to satisfy"
            ),
            RoleFinding::MissingAction { action } => {
                write!(f, "no statement allows `{action}`")
            }
            RoleFinding::ConditionalAction { action } => write!(
                f,
                "`{action}` is allowed only under a condition, which cognito-sync cannot check \
                 (Cognito documents none)"
            ),
            RoleFinding::ResourceNotCovered { action, needed, granted } => {
                write!(f, "`{action}` is allowed on {}, which does not cover `{needed}`", list(granted))
            }
            RoleFinding::ActionDenied { action } => {
                write!(f, "a Deny statement covers `{action}` on Cognito's log groups")
            }
            RoleFinding::Unreadable { what, reason } => write!(f, "{what} cannot be read: {reason}"),
        }
    }
}

/// Checks an existing role: `trust` is its trust policy and `policies` every permissions
/// policy on it (inline and attached, default versions), all already decoded. No findings
/// means Cognito can assume the role and write its logs.
///
/// Deliberately conservative where IAM's evaluation is not replicated: an Allow with a
/// `Condition`, `NotAction` or `NotPrincipal` is not counted as granting; a Deny is counted
/// whatever its condition.
pub fn verify(expected: Expected<'_>, trust: &Value, policies: &[Value]) -> Vec<RoleFinding> {
    let mut findings = verify_trust(expected, trust);
    findings.extend(verify_permissions(expected, policies));
    findings
}

fn verify_trust(expected: Expected<'_>, trust: &Value) -> Vec<RoleFinding> {
    let mut names_principal = false;
    let mut allowed_plain = false;
    let mut allowed_scoped = false;
    let mut problems = Vec::new();
    for statement in statements(trust) {
        if !trusts_cognito(statement) {
            continue;
        }
        names_principal = true;
        let actions = strings(statement.get("Action"));
        if !actions.iter().any(|a| glob(&a.to_ascii_lowercase(), "sts:assumerole")) {
            continue;
        }
        match statement.get("Effect").and_then(Value::as_str) {
            Some("Deny") => return vec![RoleFinding::TrustDenied],
            Some("Allow") => {}
            _ => continue,
        }
        match trust_condition(statement.get("Condition"), expected.account) {
            Ok(ConditionKind::None) => allowed_plain = true,
            Ok(ConditionKind::SourceAccount) => allowed_scoped = true,
            Err(problem) => problems.push(problem),
        }
    }
    if !names_principal {
        return vec![RoleFinding::TrustMissingPrincipal];
    }
    if expected.scoped_trust {
        if allowed_scoped {
            return Vec::new();
        }
        if allowed_plain {
            return vec![RoleFinding::TrustMissingSourceAccount { account: expected.account.to_owned() }];
        }
    } else if allowed_plain || allowed_scoped {
        return Vec::new();
    }
    if problems.is_empty() {
        problems.push(RoleFinding::TrustMissingAssumeRole);
    }
    problems
}

/// Whether a trust statement's principal includes Cognito (`*` does).
fn trusts_cognito(statement: &Value) -> bool {
    match statement.get("Principal") {
        Some(Value::String(any)) => any == "*",
        Some(Value::Object(principal)) => {
            strings(principal.get("Service")).iter().any(|s| s.eq_ignore_ascii_case(SERVICE_PRINCIPAL))
                || strings(principal.get("AWS")).iter().any(|s| s == "*")
        }
        _ => false,
    }
}

enum ConditionKind {
    None,
    /// Only `aws:SourceAccount` (and `aws:SourceArn`) keys, satisfied by the account.
    SourceAccount,
}

fn trust_condition(condition: Option<&Value>, account: &str) -> Result<ConditionKind, RoleFinding> {
    let Some(condition) = condition.filter(|c| !c.is_null()) else { return Ok(ConditionKind::None) };
    let unsupported = || RoleFinding::TrustUnsupportedCondition { condition: format!("`{condition}`") };
    let Some(operators) = condition.as_object() else { return Err(unsupported()) };
    if operators.is_empty() {
        return Ok(ConditionKind::None);
    }
    let mut source_account = false;
    for (operator, keys) in operators {
        let Some(keys) = keys.as_object() else { return Err(unsupported()) };
        for (key, values) in keys {
            let values = strings(Some(values));
            let string_op = matches!(operator.as_str(), "StringEquals" | "StringLike");
            if key.eq_ignore_ascii_case(SOURCE_ACCOUNT_KEY) && string_op {
                if !values.iter().any(|v| glob(v, account)) {
                    return Err(RoleFinding::TrustWrongSourceAccount { found: values, account: account.to_owned() });
                }
                source_account = true;
            } else if key.eq_ignore_ascii_case("aws:SourceArn")
                && (string_op || matches!(operator.as_str(), "ArnLike" | "ArnEquals"))
            {
                // A user pool ARN of this account: `arn:aws:cognito-idp:REGION:ACCOUNT:userpool/ID`.
                let in_account = values.iter().any(|v| {
                    v.starts_with("arn:aws") && v.contains(":cognito-idp:") && account_of_arn(v) == Some(account)
                });
                if !in_account {
                    return Err(unsupported());
                }
                source_account = true;
            } else {
                return Err(unsupported());
            }
        }
    }
    Ok(if source_account { ConditionKind::SourceAccount } else { ConditionKind::None })
}

fn verify_permissions(expected: Expected<'_>, policies: &[Value]) -> Vec<RoleFinding> {
    let needed = log_groups_arn(expected.region, expected.account);
    let all: Vec<&Value> = policies.iter().flat_map(statements).collect();
    let mut findings = Vec::new();
    for action in LOG_ACTIONS {
        let matches_action = |s: &Value| {
            strings(s.get("Action")).iter().any(|a| glob(&a.to_ascii_lowercase(), &action.to_ascii_lowercase()))
        };
        let effect = |s: &Value, e: &str| s.get("Effect").and_then(Value::as_str) == Some(e);
        let denied = all.iter().any(|s| {
            effect(s, "Deny") && matches_action(s) && strings(s.get("Resource")).iter().any(|r| overlaps(r, &needed))
        });
        if denied {
            findings.push(RoleFinding::ActionDenied { action: action.to_owned() });
            continue;
        }
        let allows: Vec<&&Value> = all.iter().filter(|s| effect(s, "Allow") && matches_action(s)).collect();
        let (conditional, plain): (Vec<&&Value>, Vec<&&Value>) =
            allows.into_iter().partition(|s| s.get("Condition").is_some_and(|c| !c.is_null()));
        let granted: Vec<String> = plain.iter().flat_map(|s| strings(s.get("Resource"))).collect();
        if granted.iter().any(|r| glob(r, &needed)) {
            continue;
        }
        findings.push(if !granted.is_empty() {
            RoleFinding::ResourceNotCovered { action: action.to_owned(), needed: needed.clone(), granted }
        } else if !conditional.is_empty() {
            RoleFinding::ConditionalAction { action: action.to_owned() }
        } else {
            RoleFinding::MissingAction { action: action.to_owned() }
        });
    }
    findings
}

/// A document's statements: `Statement` is an object or a list of objects.
fn statements(document: &Value) -> Vec<&Value> {
    match document.get("Statement") {
        Some(Value::Array(list)) => list.iter().filter(|s| s.is_object()).collect(),
        Some(statement @ Value::Object(_)) => vec![statement],
        _ => Vec::new(),
    }
}

/// A field that is a string or a list of strings.
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// IAM's wildcards: `*` matches any run of characters, `?` any one. Used to ask whether a
/// pattern in a policy covers a needed value; when the needed value is itself a pattern
/// (`.../cognito/*`), its `*` is matched only by a `*`, so `?` never counts as covering it.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // Iterative matcher with backtracking to the last `*`.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == t[ti] || (p[pi] == '?' && t[ti] != '*')) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Whether two IAM patterns have a value in common, e.g. a Deny on
/// `arn:aws:logs:*:*:log-group:/aws/cognito/userpools/*` and the needed
/// `arn:aws:logs:REGION:ACCOUNT:log-group:/aws/cognito/*`.
fn overlaps(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // seen[i][j]: the suffixes a[i..] and b[j..] were already tried.
    let mut seen = vec![vec![false; b.len() + 1]; a.len() + 1];
    let mut stack = vec![(0, 0)];
    while let Some((i, j)) = stack.pop() {
        if std::mem::replace(&mut seen[i][j], true) {
            continue;
        }
        match (a.get(i), b.get(j)) {
            (None, None) => return true,
            (Some('*'), _) | (_, Some('*')) => {
                // A star matches nothing more, or one more character of the other side.
                if a.get(i) == Some(&'*') {
                    stack.push((i + 1, j));
                    if j < b.len() {
                        stack.push((i, j + 1));
                    }
                }
                if b.get(j) == Some(&'*') {
                    stack.push((i, j + 1));
                    if i < a.len() {
                        stack.push((i + 1, j));
                    }
                }
            }
            (Some(x), Some(y)) if x == y || *x == '?' || *y == '?' => stack.push((i + 1, j + 1)),
            _ => {}
        }
    }
    false
}

/// How long to wait before retrying `CreateUserImportJob` after it failed with `code`, or
/// `None` to give up and report the error. `attempt` counts retries already made (0 for the
/// first failure).
///
/// IAM is eventually consistent: a role created a moment ago may not yet be assumable by
/// Cognito, which then answers `InvalidParameterException` about the role. The import docs
/// document no delay (reference §6), so the rule is: retry that code when the role may be
/// new (`role_is_new`), a few times with a doubling delay of 1, 2, 4, 8, 8, 8 seconds (about
/// 31 s in all, which covers IAM's usual propagation of a few seconds). `apply` passes true in
/// every run: the role it has just verified may have been created moments ago by this run,
/// by `role --create` or by a concurrent run, and nothing tells them apart. The code alone
/// decides, never the message text. Throttling and 5xx are retried by the SDK itself.
pub fn propagation_retry_delay(code: Option<&str>, role_is_new: bool, attempt: u32) -> Option<Duration> {
    const RETRIES: u32 = 6;
    const CAP: Duration = Duration::from_secs(8);
    if !role_is_new || code != Some("InvalidParameterException") || attempt >= RETRIES {
        return None;
    }
    Some(Duration::from_secs(1u64 << attempt.min(3)).min(CAP))
}

/// Everything that can stop the role from being found, created or used.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RoleError {
    /// An IAM call failed.
    #[error("failed to {doing}")]
    Aws {
        /// `<verb> <object>`, e.g. ``get role `cognito-sync-import` ``.
        doing: String,
        /// The service error code, when there is one.
        code: Option<String>,
        #[source]
        cause: AwsCause,
        #[help]
        help: Option<String>,
    },
    #[error("role `{role}` does not exist")]
    #[diagnostic(help("run `cognito-sync role --create` to create it, or let `cognito-sync apply` create it"))]
    Missing { role: String },
    #[error("role `{role}` does not exist, and cognito-sync creates a role only from a name")]
    #[diagnostic(help(
        "create it yourself, or set `import.role` to its name (`{name}`) so that `cognito-sync role --create` creates it"
    ))]
    MissingArn { role: String, name: String },
    #[error("`import.role` is `{role}`, but the role of that name is `{found}`")]
    #[diagnostic(help("the credentials are for another account than the ARN's; check `--profile` and the ARN"))]
    OtherRole { role: String, found: String },
    #[error("{0}")]
    #[diagnostic(help("`import.role` takes a role name or a role ARN"))]
    BadReference(String),
    #[error("role `{arn}` cannot be used by Cognito imports:\n{}", bullet_list(.findings))]
    #[diagnostic(help(
        "fix the role in IAM (cognito-sync never rewrites or deletes an existing role), or set `import.role` to another role"
    ))]
    Unusable { arn: String, findings: Vec<RoleFinding> },
}

fn bullet_list(findings: &[RoleFinding]) -> String {
    findings.iter().map(|f| format!("  - {f}")).collect::<Vec<_>>().join("\n")
}

/// The service's answer behind an [`RoleError::Aws`]: its code and message, as text, so that
/// no SDK type leaves the adapter.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AwsCause(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "123456789012";
    const REGION: &str = "eu-west-1";

    fn expected(scoped_trust: bool) -> Expected<'static> {
        Expected { account: ACCOUNT, region: REGION, scoped_trust }
    }

    fn good() -> (Value, Vec<Value>) {
        (trust_policy(None), vec![permissions_policy(REGION, ACCOUNT)])
    }

    fn check(scoped: bool, trust: &Value, policies: &[Value]) -> Vec<String> {
        verify(expected(scoped), trust, policies).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn created_documents_are_exactly_the_documented_ones() {
        assert_eq!(
            trust_policy(None),
            json!({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "cognito-idp.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
        );
        assert_eq!(
            trust_policy(Some(ACCOUNT))["Statement"][0]["Condition"],
            json!({"StringEquals": {"aws:SourceAccount": "123456789012"}})
        );
        assert_eq!(
            permissions_policy(REGION, ACCOUNT),
            json!({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                "Resource": "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/cognito/*"}]})
        );
    }

    #[test]
    fn the_created_role_verifies() {
        let (trust, policies) = good();
        assert_eq!(check(false, &trust, &policies), Vec::<String>::new());
        assert_eq!(check(true, &trust_policy(Some(ACCOUNT)), &policies), Vec::<String>::new());
        // A scoped trust is accepted without `scoped_trust` too: it is what Cognito would satisfy.
        assert_eq!(check(false, &trust_policy(Some(ACCOUNT)), &policies), Vec::<String>::new());
    }

    #[test]
    fn trust_without_the_cognito_principal() {
        let trust = json!({"Statement": {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}});
        assert_eq!(
            check(false, &trust, &good().1),
            ["the trust policy does not name the principal `cognito-idp.amazonaws.com`"]
        );
    }

    #[test]
    fn trust_without_assume_role() {
        let trust = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": ["ec2.amazonaws.com", "cognito-idp.amazonaws.com"]}, "Action": "sts:TagSession"}]});
        assert_eq!(
            check(false, &trust, &good().1),
            ["the trust policy does not allow `cognito-idp.amazonaws.com` the action `sts:AssumeRole`"]
        );
        let wildcard = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "cognito-idp.amazonaws.com"}, "Action": "sts:*"}]});
        assert!(check(false, &wildcard, &good().1).is_empty());
    }

    #[test]
    fn trust_denied() {
        let mut trust = trust_policy(None);
        trust["Statement"].as_array_mut().unwrap().push(json!({"Effect": "Deny", "Principal": {"Service": "cognito-idp.amazonaws.com"}, "Action": "sts:AssumeRole"}));
        assert_eq!(
            check(false, &trust, &good().1),
            ["the trust policy denies `sts:AssumeRole` to `cognito-idp.amazonaws.com`"]
        );
    }

    #[test]
    fn scoped_trust_needs_the_source_account_condition() {
        assert_eq!(
            check(true, &trust_policy(None), &good().1),
            [
                "`import.scoped_trust` is set, but the trust policy has no `aws:SourceAccount` condition for account `123456789012`"
            ]
        );
        assert_eq!(
            check(false, &trust_policy(Some("999999999999")), &good().1),
            ["the trust policy's `aws:SourceAccount` is `999999999999`, not the role's account `123456789012`"]
        );
        let by_arn = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "cognito-idp.amazonaws.com"}, "Action": "sts:AssumeRole",
            "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/*"}}}]});
        assert!(check(true, &by_arn, &good().1).is_empty());
    }

    #[test]
    fn trust_with_an_unsupported_condition() {
        let trust = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "cognito-idp.amazonaws.com"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "x"}}}]});
        assert_eq!(
            check(false, &trust, &good().1),
            [
                "the trust policy allows `cognito-idp.amazonaws.com` only under the condition `{\"StringEquals\":{\"sts:ExternalId\":\"x\"}}`, which Cognito is not documented to satisfy"
            ]
        );
    }

    #[test]
    fn missing_actions_are_named() {
        let policy = json!({"Statement": {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream"], "Resource": "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/cognito/*"}});
        assert_eq!(
            check(false, &trust_policy(None), &[policy]),
            ["no statement allows `logs:DescribeLogStreams`", "no statement allows `logs:PutLogEvents`"]
        );
        assert_eq!(check(false, &trust_policy(None), &[]).len(), 4);
    }

    #[test]
    fn actions_may_come_from_several_policies_and_wildcards() {
        let inline = json!({"Statement": [{"Effect": "Allow", "Action": "logs:Create*", "Resource": "arn:aws:logs:*:*:log-group:/aws/cognito/*"}]});
        let attached = json!({"Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]});
        assert!(check(false, &trust_policy(None), &[inline.clone(), attached]).is_empty());
        let everything = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        assert!(check(false, &trust_policy(None), &[everything]).is_empty());
        // Action names are case-insensitive in IAM.
        let lower = json!({"Statement": [{"Effect": "Allow", "Action": ["logs:createloggroup", "LOGS:CREATELOGSTREAM", "logs:describelogstreams", "logs:putlogevents"], "Resource": "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/cognito/*"}]});
        assert!(check(false, &trust_policy(None), &[lower]).is_empty());
    }

    #[test]
    fn resource_in_another_region_or_too_narrow() {
        let other_region = permissions_policy("us-east-1", ACCOUNT);
        let findings = check(false, &trust_policy(None), &[other_region]);
        assert_eq!(findings.len(), 4);
        assert_eq!(
            findings[0],
            "`logs:CreateLogGroup` is allowed on `arn:aws:logs:us-east-1:123456789012:log-group:/aws/cognito/*`, \
             which does not cover `arn:aws:logs:eu-west-1:123456789012:log-group:/aws/cognito/*`"
        );
        let narrow = json!({"Statement": [{"Effect": "Allow", "Action": LOG_ACTIONS, "Resource": ["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/cognito/userpools/?"]}]});
        assert!(check(false, &trust_policy(None), &[narrow])[3].starts_with("`logs:PutLogEvents` is allowed on"));
    }

    #[test]
    fn a_deny_wins() {
        let deny = json!({"Statement": [{"Effect": "Deny", "Action": "logs:PutLogEvents", "Resource": "arn:aws:logs:*:*:log-group:/aws/cognito/userpools/*"}]});
        assert_eq!(
            check(false, &trust_policy(None), &[permissions_policy(REGION, ACCOUNT), deny]),
            ["a Deny statement covers `logs:PutLogEvents` on Cognito's log groups"]
        );
    }

    #[test]
    fn conditional_grants_are_not_counted() {
        let mut policy = permissions_policy(REGION, ACCOUNT);
        policy["Statement"][0]["Condition"] = json!({"Bool": {"aws:SecureTransport": "true"}});
        let findings = check(false, &trust_policy(None), &[policy]);
        assert_eq!(
            findings[0],
            "`logs:CreateLogGroup` is allowed only under a condition, which cognito-sync cannot check (Cognito documents none)"
        );
    }

    #[test]
    fn documents_from_iam_are_url_decoded() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22cognito-idp.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%7D";
        let trust = decode_document(encoded).unwrap();
        assert!(check(false, &trust, &good().1).is_empty());
        assert_eq!(decode_document("{\"a\": 1}").unwrap(), json!({"a": 1}));
        assert!(decode_document("%7B%2").is_err());
        assert!(decode_document("%7Bnot json").unwrap_err().starts_with("not JSON"));
    }

    #[test]
    fn role_references() {
        assert_eq!(RoleRef::parse("cognito-sync-import").unwrap(), RoleRef::Name("cognito-sync-import".into()));
        let arn = RoleRef::parse("arn:aws:iam::123456789012:role/service/cognito-sync-import").unwrap();
        assert_eq!(
            arn,
            RoleRef::Arn {
                arn: "arn:aws:iam::123456789012:role/service/cognito-sync-import".into(),
                account: ACCOUNT.into(),
                path: "/service/".into(),
                name: "cognito-sync-import".into(),
            }
        );
        assert_eq!(arn.name(), "cognito-sync-import");
        assert!(RoleRef::parse("arn:aws:iam::123:role/x").is_err());
        assert!(RoleRef::parse("arn:aws:s3:::bucket").is_err());
        assert_eq!(account_of_arn("arn:aws:iam::123456789012:role/x"), Some(ACCOUNT));
    }

    #[test]
    fn glob_covers_patterns() {
        assert!(glob("*", "arn:aws:logs:r:a:log-group:/aws/cognito/*"));
        assert!(glob("arn:aws:logs:*:a:log-group:/aws/*", "arn:aws:logs:r:a:log-group:/aws/cognito/*"));
        assert!(!glob("arn:aws:logs:r:a:log-group:/aws/cognito/?", "arn:aws:logs:r:a:log-group:/aws/cognito/*"));
        assert!(!glob(
            "arn:aws:logs:r:a:log-group:/aws/cognito/userpools/*",
            "arn:aws:logs:r:a:log-group:/aws/cognito/*"
        ));
    }

    #[test]
    fn overlapping_patterns() {
        let needed = "arn:aws:logs:eu-west-1:1:log-group:/aws/cognito/*";
        assert!(overlaps("arn:aws:logs:*:*:log-group:/aws/cognito/userpools/*", needed));
        assert!(overlaps("*", needed));
        assert!(overlaps("arn:aws:logs:eu-west-1:1:log-group:/aws/cognito/x", needed));
        assert!(!overlaps("arn:aws:logs:us-east-1:1:log-group:/aws/cognito/*", needed));
        assert!(!overlaps("arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/*", needed));
    }

    #[test]
    fn propagation_is_retried_only_for_a_new_role() {
        let delays: Vec<_> =
            (0..7).map(|n| propagation_retry_delay(Some("InvalidParameterException"), true, n)).collect();
        let secs = |s| Some(Duration::from_secs(s));
        assert_eq!(delays, [secs(1), secs(2), secs(4), secs(8), secs(8), secs(8), None]);
        assert_eq!(propagation_retry_delay(Some("InvalidParameterException"), false, 0), None);
        assert_eq!(propagation_retry_delay(Some("LimitExceededException"), true, 0), None);
        assert_eq!(propagation_retry_delay(None, true, 0), None);
    }
}

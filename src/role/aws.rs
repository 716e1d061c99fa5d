//! The IAM adapter of the shared import role: find it, read its policies, create it when
//! missing. The only file that holds the IAM client; no SDK type leaves it.
//!
//! It never changes an existing role and never deletes one: a role that is wrong is
//! reported with [`RoleFinding`]s for a person to fix. The one exception is a role this tool
//! started to create and did not finish (tagged `managed-by: cognito-sync`, and without any
//! permissions policy, e.g. after the process was killed between CreateRole and
//! PutRolePolicy): after waiting briefly for a concurrent run to finish it, `ensure` puts the
//! missing documents on it and says so ([`ReadyRole::completed`]).
//!
//! IAM permissions each step needs (named in the error's `help:` when denied):
//! - reading: `iam:GetRole`, `iam:ListRolePolicies`, `iam:GetRolePolicy`,
//!   `iam:ListAttachedRolePolicies`, and for attached policies `iam:GetPolicy`,
//!   `iam:GetPolicyVersion`;
//! - creating: `iam:CreateRole`, `iam:TagRole` (the role is tagged `managed-by`),
//!   `iam:PutRolePolicy`, and with `import.scoped_trust` `iam:UpdateAssumeRolePolicy`.
// One of the three adapters allowed to hold AWS clients (clippy.toml).
#![allow(clippy::disallowed_types)]

use std::time::Duration;

use aws_sdk_iam::Client;
use aws_sdk_iam::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_iam::types::Tag;
use serde_json::Value;

use super::{
    AwsCause, Expected, LOGS_POLICY_NAME, RoleError, RoleFinding, RoleRef, account_of_arn, decode_document,
    permissions_policy, trust_policy, verify,
};

/// The role a manifest asks for.
#[derive(Debug, Clone, Copy)]
pub struct WantedRole<'a> {
    /// `import.role`: a name or an ARN.
    pub role: &'a str,
    /// The pool's region, where Cognito writes the job's logs.
    pub region: &'a str,
    /// `import.scoped_trust`.
    pub scoped_trust: bool,
}

/// An existing role and what is wrong with it, if anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleState {
    pub name: String,
    pub arn: String,
    /// Empty when Cognito can use the role.
    pub findings: Vec<RoleFinding>,
    /// Tagged `managed-by: cognito-sync`: this tool created it.
    pub managed: bool,
    /// How many permissions policies (inline and attached) it has.
    pub permission_policies: usize,
}

impl RoleState {
    /// A role this tool began to create and has not finished: no permissions policy yet.
    pub fn incomplete(&self) -> bool {
        self.managed && self.permission_policies == 0
    }
}

/// The tag that marks a role created by cognito-sync.
const MANAGED_TAG: (&str, &str) = ("managed-by", "cognito-sync");
/// How long `ensure` waits for another run that is creating the same role right now.
const CONCURRENT_CREATE_WAIT: Duration = Duration::from_millis(500);
const CONCURRENT_CREATE_TRIES: u32 = 10;

/// A role Cognito can use, for `CreateUserImportJob`'s `CloudWatchLogsRoleArn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyRole {
    pub name: String,
    pub arn: String,
    /// Whether this run created it, or completed an interrupted creation: a new role may
    /// not be assumable for some seconds (see [`super::propagation_retry_delay`]).
    pub created: bool,
    /// This run put the missing policies on a role whose creation was interrupted.
    pub completed: bool,
}

/// IAM, as far as the import role is concerned.
#[derive(Debug, Clone)]
pub struct RoleIam {
    client: Client,
}

impl RoleIam {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        RoleIam { client: Client::new(config) }
    }

    /// Finds the role, reads its trust and permissions policies and checks them. `None`
    /// when there is no such role.
    pub async fn inspect(&self, wanted: WantedRole<'_>) -> Result<Option<RoleState>, RoleError> {
        let reference = RoleRef::parse(wanted.role).map_err(RoleError::BadReference)?;
        let name = reference.name();
        let role = match self.client.get_role().role_name(name).send().await {
            Ok(output) => output.role,
            Err(error) if error.code() == Some("NoSuchEntity") => return Ok(None),
            Err(error) => return Err(failed(error, format!("get role `{name}`"), "iam:GetRole", name)),
        };
        let Some(role) = role else { return Ok(None) };
        let managed = role.tags.iter().flatten().any(|t| (t.key(), t.value()) == MANAGED_TAG);
        let arn = role.arn;
        if let RoleRef::Arn { arn: wanted_arn, .. } = &reference
            && *wanted_arn != arn
        {
            return Err(RoleError::OtherRole { role: wanted_arn.clone(), found: arn });
        }
        let account = account_of_arn(&arn).unwrap_or_default().to_owned();

        let mut unreadable = Vec::new();
        let mut read = |what: String, text: Option<&str>| match text.map(decode_document) {
            Some(Ok(document)) => document,
            Some(Err(reason)) => {
                unreadable.push(RoleFinding::Unreadable { what, reason });
                Value::Null
            }
            None => {
                unreadable.push(RoleFinding::Unreadable { what, reason: "IAM returned no document".to_owned() });
                Value::Null
            }
        };
        let trust = read("the trust policy".to_owned(), role.assume_role_policy_document.as_deref());
        let mut policies = Vec::new();
        for (what, text) in self.inline_policies(name).await? {
            policies.push(read(what, Some(&text)));
        }
        for (what, text) in self.attached_policies(name).await? {
            policies.push(read(what, text.as_deref()));
        }
        let expected = Expected { account: &account, region: wanted.region, scoped_trust: wanted.scoped_trust };
        let mut checked = verify(expected, &trust, &policies);
        // The trust was read before the policies, and a run creating this role right now
        // scopes the trust before it puts the policy: a policy seen means the scoped trust is
        // there, so a trust read too early is read again rather than reported.
        if managed
            && !policies.is_empty()
            && checked.iter().any(|f| matches!(f, RoleFinding::TrustMissingSourceAccount { .. }))
            && let Ok(output) = self.client.get_role().role_name(name).send().await
            && let Some(Ok(trust)) =
                output.role.and_then(|r| r.assume_role_policy_document).as_deref().map(decode_document)
        {
            checked = verify(expected, &trust, &policies);
        }
        let mut findings = unreadable;
        findings.extend(checked);
        Ok(Some(RoleState { name: name.to_owned(), arn, findings, managed, permission_policies: policies.len() }))
    }

    /// Finds the role and, when it is missing, creates it; an existing role is checked and
    /// returned only when Cognito can use it.
    pub async fn ensure(&self, wanted: WantedRole<'_>) -> Result<ReadyRole, RoleError> {
        let mut state = self.inspect(wanted).await?;
        if state.is_none() {
            match self.create(wanted).await? {
                Created::Now(role) => return Ok(role),
                // Another run created it between our look and our create: use theirs, checked.
                Created::Concurrently => state = self.inspect(wanted).await?,
            }
        }
        // Another run may be between its CreateRole and its PutRolePolicy: give it a moment.
        let mut tries = 0;
        while state.as_ref().is_some_and(RoleState::incomplete) && tries < CONCURRENT_CREATE_TRIES {
            tokio::time::sleep(CONCURRENT_CREATE_WAIT).await;
            state = self.inspect(wanted).await?;
            tries += 1;
        }
        match state {
            None => Err(RoleError::Missing { role: wanted.role.to_owned() }),
            // Still without a policy: an earlier creation was interrupted. Finish it.
            Some(state) if state.incomplete() => {
                let account = account_of_arn(&state.arn).unwrap_or_default().to_owned();
                self.put_documents(wanted, &state.name, &account).await?;
                Ok(ReadyRole { name: state.name, arn: state.arn, created: true, completed: true })
            }
            Some(state) => ready(state, false),
        }
    }

    /// CreateRole with the documented trust, then the inline logs policy. The account id
    /// comes from the new role's ARN, so no STS call is needed. With `scoped_trust` the trust
    /// gets its `aws:SourceAccount` condition right after creation, once the account is known.
    async fn create(&self, wanted: WantedRole<'_>) -> Result<Created, RoleError> {
        let name = match RoleRef::parse(wanted.role).map_err(RoleError::BadReference)? {
            RoleRef::Name(name) => name,
            // An ARN may be in another account than the credentials': creating a role of the
            // same name here would not be that role.
            RoleRef::Arn { arn, name, .. } => return Err(RoleError::MissingArn { role: arn, name }),
        };
        let tag = Tag::builder().key(MANAGED_TAG.0).value(MANAGED_TAG.1).build().expect("key and value are set");
        let created = self
            .client
            .create_role()
            .role_name(&name)
            .assume_role_policy_document(trust_policy(None).to_string())
            .description("Lets Amazon Cognito write the CloudWatch logs of user import jobs (cognito-sync)")
            .tags(tag)
            .send()
            .await;
        let arn = match created {
            Ok(output) => output.role.map(|r| r.arn).unwrap_or_default(),
            Err(error) if error.code() == Some("EntityAlreadyExists") => return Ok(Created::Concurrently),
            Err(error) => return Err(failed(error, format!("create role `{name}`"), "iam:CreateRole", &name)),
        };
        let account = account_of_arn(&arn).unwrap_or_default().to_owned();
        self.put_documents(wanted, &name, &account).await?;
        Ok(Created::Now(ReadyRole { name, arn, created: true, completed: false }))
    }

    /// What CreateRole cannot do: with `scoped_trust`, the trust's `aws:SourceAccount`
    /// condition (the account is known only once the role exists); then the inline logs
    /// policy. Both calls are idempotent.
    async fn put_documents(&self, wanted: WantedRole<'_>, name: &str, account: &str) -> Result<(), RoleError> {
        if wanted.scoped_trust {
            self.client
                .update_assume_role_policy()
                .role_name(name)
                .policy_document(trust_policy(Some(account)).to_string())
                .send()
                .await
                .map_err(|error| {
                    failed(
                        error,
                        format!("scope the trust policy of the new role `{name}` to account `{account}`"),
                        "iam:UpdateAssumeRolePolicy",
                        name,
                    )
                })?;
        }
        self.client
            .put_role_policy()
            .role_name(name)
            .policy_name(LOGS_POLICY_NAME)
            .policy_document(permissions_policy(wanted.region, account).to_string())
            .send()
            .await
            .map_err(|error| {
                failed(error, format!("put the logs policy on the new role `{name}`"), "iam:PutRolePolicy", name)
            })?;
        Ok(())
    }

    /// Every inline policy: (description, document).
    async fn inline_policies(&self, role: &str) -> Result<Vec<(String, String)>, RoleError> {
        let mut names = Vec::new();
        let mut marker = None;
        loop {
            let page =
                self.client.list_role_policies().role_name(role).set_marker(marker.take()).send().await.map_err(
                    |e| failed(e, format!("list the inline policies of role `{role}`"), "iam:ListRolePolicies", role),
                )?;
            names.extend(page.policy_names);
            match page.marker.filter(|_| page.is_truncated) {
                Some(next) => marker = Some(next),
                None => break,
            }
        }
        let mut documents = Vec::with_capacity(names.len());
        for policy in names {
            let output =
                self.client.get_role_policy().role_name(role).policy_name(&policy).send().await.map_err(|e| {
                    failed(e, format!("get inline policy `{policy}` of role `{role}`"), "iam:GetRolePolicy", role)
                })?;
            documents.push((format!("inline policy `{policy}`"), output.policy_document));
        }
        Ok(documents)
    }

    /// Every attached managed policy's default version: (description, document).
    async fn attached_policies(&self, role: &str) -> Result<Vec<(String, Option<String>)>, RoleError> {
        let mut arns = Vec::new();
        let mut marker = None;
        loop {
            let page = self
                .client
                .list_attached_role_policies()
                .role_name(role)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| {
                    failed(
                        e,
                        format!("list the policies attached to role `{role}`"),
                        "iam:ListAttachedRolePolicies",
                        role,
                    )
                })?;
            arns.extend(page.attached_policies.unwrap_or_default().into_iter().filter_map(|p| p.policy_arn));
            match page.marker.filter(|_| page.is_truncated) {
                Some(next) => marker = Some(next),
                None => break,
            }
        }
        let mut documents = Vec::with_capacity(arns.len());
        for arn in arns {
            let policy = self
                .client
                .get_policy()
                .policy_arn(&arn)
                .send()
                .await
                .map_err(|e| failed(e, format!("get policy `{arn}`"), "iam:GetPolicy", &arn))?;
            let Some(version) = policy.policy.and_then(|p| p.default_version_id) else {
                documents.push((format!("attached policy `{arn}`"), None));
                continue;
            };
            let output =
                self.client.get_policy_version().policy_arn(&arn).version_id(&version).send().await.map_err(|e| {
                    failed(e, format!("get version `{version}` of policy `{arn}`"), "iam:GetPolicyVersion", &arn)
                })?;
            documents.push((format!("attached policy `{arn}`"), output.policy_version.and_then(|v| v.document)));
        }
        Ok(documents)
    }
}

enum Created {
    Now(ReadyRole),
    Concurrently,
}

fn ready(state: RoleState, created: bool) -> Result<ReadyRole, RoleError> {
    if state.findings.is_empty() {
        Ok(ReadyRole { name: state.name, arn: state.arn, created, completed: false })
    } else {
        Err(RoleError::Unusable { arn: state.arn, findings: state.findings })
    }
}

/// Turns an SDK error into `failed to <doing>`, keeping the service's code and message and
/// adding a hint from the code (never from the message text).
fn failed<E>(error: E, doing: String, action: &str, resource: &str) -> RoleError
where
    E: ProvideErrorMetadata + std::error::Error,
{
    let code = error.code().map(str::to_owned);
    let cause = match (error.code(), error.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => DisplayErrorContext(&error).to_string(),
    };
    let help = match code.as_deref() {
        Some("AccessDenied" | "AccessDeniedException") => {
            Some(format!("the credentials need the IAM permission `{action}` on `{resource}`"))
        }
        Some("LimitExceeded") => Some("the account has reached an IAM quota (roles or policies)".to_owned()),
        Some(_) => None,
        None => Some("IAM could not be reached: check the network, `--endpoint-url` and `AWS_ENDPOINT_URL`".to_owned()),
    };
    RoleError::Aws { doing, code, cause: AwsCause(cause), help }
}

#[cfg(test)]
mod tests {
    use aws_sdk_iam::error::ErrorMetadata;
    use aws_sdk_iam::operation::get_role::GetRoleError;

    use super::*;

    fn service_error(code: &str, message: &str) -> GetRoleError {
        GetRoleError::generic(ErrorMetadata::builder().code(code).message(message).build())
    }

    #[test]
    fn access_denied_names_the_permission() {
        let error =
            service_error("AccessDenied", "User: arn:aws:iam::1:user/ci is not authorized to perform: iam:GetRole");
        let RoleError::Aws { doing, code, cause, help } = failed(error, "get role `r`".into(), "iam:GetRole", "r")
        else {
            panic!("an AWS error")
        };
        assert_eq!(doing, "get role `r`");
        assert_eq!(code.as_deref(), Some("AccessDenied"));
        assert_eq!(cause.0, "AccessDenied: User: arn:aws:iam::1:user/ci is not authorized to perform: iam:GetRole");
        assert_eq!(help.as_deref(), Some("the credentials need the IAM permission `iam:GetRole` on `r`"));
    }

    #[test]
    fn other_codes_keep_the_message_without_a_guess() {
        let error = service_error("ServiceFailure", "boom");
        let rendered = failed(error, "get role `r`".into(), "iam:GetRole", "r");
        assert_eq!(rendered.to_string(), "failed to get role `r`");
        let RoleError::Aws { help, cause, .. } = rendered else { panic!("an AWS error") };
        assert_eq!((help, cause.0), (None, "ServiceFailure: boom".to_owned()));
    }

    #[test]
    fn a_missing_role_given_as_an_arn_is_not_created() {
        let config = aws_config::SdkConfig::builder().behavior_version(aws_config::BehaviorVersion::latest()).build();
        let iam = RoleIam::new(&config);
        let wanted = WantedRole { role: "arn:aws:iam::123456789012:role/x", region: "eu-west-1", scoped_trust: false };
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        // Refused before any request: this client has no region or credentials.
        let error = runtime.block_on(iam.create(wanted)).err().expect("refused");
        assert!(matches!(error, RoleError::MissingArn { .. }), "{error:?}");
    }
}

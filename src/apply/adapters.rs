//! The workflow's traits over the AWS adapters (`import::aws`, `pool::aws`, `role::aws`).
//! No SDK type appears here: each method calls one adapter and converts its answer.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::{Changes, Created, Imports, PlannedUser, Roles, Users};
use crate::changes::{Change, ChangeError};
use crate::import::aws::{CognitoImports, ImportError, LogRows};
use crate::import::{Job, LogLine, log_location};
use crate::pool::aws::CognitoPool;
use crate::pool::{
    ObservedPool, PoolMfa, PoolReader, ReadProgress, RemoteUser, SIGN_IN_ATTRIBUTES, Wanted, WantedUser,
};
use crate::role::aws::{RoleIam, WantedRole};

/// Import jobs of one pool.
pub struct PoolImports {
    pub imports: CognitoImports,
    pub pool_id: String,
    pub pool_name: String,
}

impl Imports for PoolImports {
    async fn list_jobs(&self) -> Result<Vec<Job>, ImportError> {
        self.imports.list_jobs(&self.pool_id).await
    }

    async fn describe(&self, job_id: &str) -> Result<Job, ImportError> {
        self.imports.describe(&self.pool_id, job_id).await
    }

    async fn create(
        &self,
        name: &str,
        role_arn: &str,
        algorithm: Option<&str>,
        on_retry: &mut dyn FnMut(String, Duration),
    ) -> Created {
        // Every run retries IAM propagation: the role may be minutes old whoever made it.
        match self
            .imports
            .create(&self.pool_id, name, role_arn, true, algorithm, |why, delay| on_retry(why.to_owned(), delay))
            .await
        {
            Ok(job) => Created::Job(job),
            Err(error) if error.code.as_deref() == Some("LimitExceededException") => Created::Refused(error),
            Err(error) => Created::Failed(error),
        }
    }

    async fn upload(&self, job: &Job, body: Vec<u8>) -> Result<(), ImportError> {
        let url = job.upload_url.as_ref().ok_or_else(|| ImportError {
            doing: format!("upload the CSV of import job `{}`", job.id),
            reason: "Cognito gave the job no upload URL".to_owned(),
            code: None,
            help: Some("run `cognito-sync apply` again: it makes a new job".to_owned()),
        })?;
        self.imports.upload(url, body, &job.id).await
    }

    async fn start(&self, job_id: &str) -> Result<Job, ImportError> {
        self.imports.start(&self.pool_id, job_id).await
    }

    async fn read_log(&self, job: &Job) -> Result<Vec<LogLine>, ImportError> {
        let (group, stream) = log_location(&self.pool_id, &self.pool_name, job);
        self.imports.read_log(&group, &stream, LogRows::Problems).await
    }
}

/// Planned users read back from the pool, by the cheaper of a walk and look-ups.
pub struct PoolUsers {
    pub pool: CognitoPool,
}

impl Users for PoolUsers {
    async fn find(&self, users: &[PlannedUser]) -> miette::Result<Vec<(String, RemoteUser)>> {
        // Each name once, copied only when new: every planned user declares most of them.
        let mut attributes = std::collections::BTreeSet::new();
        for name in users.iter().flat_map(|u| u.attributes.keys()) {
            if !attributes.contains(name) {
                attributes.insert(name.to_owned());
            }
        }
        let wanted = Wanted {
            users: users
                .iter()
                .map(|u| WantedUser {
                    username: u.username.clone(),
                    sign_in: SIGN_IN_ATTRIBUTES.iter().filter_map(|a| u.attributes.get(a).map(|v| (*a, v))).collect(),
                    groups: Vec::new(),
                })
                .collect(),
            attributes,
            // Memberships are the second phase's to read (SPEC §8), not the import's.
            groups: Default::default(),
        };
        let observed = self.pool.snapshot(&wanted, &mut |_| {}).await?;
        let found = crate::plan::found(&wanted, &observed);
        // Each counterpart moved out of the snapshot, not copied (cloned only for a pool user
        // that two planned users match): the read-back holds every planned user.
        let mut uses = vec![0u32; observed.users.users().len()];
        for (_, i) in &found {
            uses[*i] += 1;
        }
        let mut remote = observed.users.into_users();
        Ok(found
            .into_iter()
            .map(|(username, i)| {
                uses[i] -= 1;
                let user = if uses[i] == 0 { std::mem::take(&mut remote[i]) } else { remote[i].clone() };
                (username, user)
            })
            .collect())
    }

    async fn without_mfa(&self, users: &[(String, String)]) -> miette::Result<BTreeSet<String>> {
        if users.is_empty() || self.pool.describe_pool().await?.mfa != PoolMfa::Optional {
            return Ok(BTreeSet::new());
        }
        let pool_names: Vec<String> = users.iter().map(|(_, pool_name)| pool_name.clone()).collect();
        let without = self.pool.without_mfa(&pool_names).await?;
        Ok(users.iter().filter(|(_, pool_name)| without.contains(pool_name)).map(|(u, _)| u.clone()).collect())
    }
}

/// The second phase's read-back and changes, on one pool (its own request count, for `-v`).
pub struct PoolChanges {
    pub pool: CognitoPool,
}

impl Changes for PoolChanges {
    async fn read_back(&self, wanted: &Wanted, on_read: &mut dyn FnMut(ReadProgress)) -> miette::Result<ObservedPool> {
        Ok(self.pool.snapshot(wanted, on_read).await?)
    }

    fn requests(&self) -> BTreeMap<&'static str, u64> {
        self.pool.requests()
    }

    async fn send(&self, change: &Change) -> Result<(), ChangeError> {
        self.pool.change(change).await
    }
}

/// The shared role, found or created.
pub struct SharedRole {
    pub iam: RoleIam,
    pub role: String,
    pub region: String,
    pub scoped_trust: bool,
}

impl Roles for SharedRole {
    async fn ensure(&self) -> miette::Result<(String, bool)> {
        let ready = self
            .iam
            .ensure(WantedRole { role: &self.role, region: &self.region, scoped_trust: self.scoped_trust })
            .await?;
        Ok((ready.arn, ready.created))
    }
}

//! The Cognito adapter for reading a pool: DescribeUserPool, GetCSVHeader, and the existing
//! users by the cheaper of a `ListUsers` walk and per-user look-ups. The only file of
//! `pool` that knows the SDK; everything it returns is a domain type.
//!
//! Every request goes through the run's [`Pacer`] (`crate::pace`: a rate per quota category,
//! retries, slowing down when throttled). A full walk of a large pool runs several
//! `ListUsers` chains at once, one per prefix of `sub` (a UUID), because one chain's pages
//! come one after another and at real latencies cannot reach the UserList quota (SPEC §10).
// One of the three adapters allowed to hold AWS clients (clippy.toml).
#![allow(clippy::disallowed_types)]

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::config::ProvideCredentials;
use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::types::{AttributeType, LimitClass, LimitDefinitionType, UserPoolMfaType};
use tokio::task::JoinSet;

use super::{MembershipStrategy, RemoteGroup, choose_membership_strategy, group_walk_cost};
use super::{
    ObservedPool, ObservedUsers, PoolMfa, PoolReader, ReadProgress, ReadStrategy, RemoteUser, SchemaAttribute, Wanted,
    WantedUser, choose_strategy, filter_for, sign_in_key,
};
use crate::aws::verdict;
use crate::pace::{Category, Pacer, Verdict};
use crate::settings::AwsTarget;

const CREDENTIALS_HELP: &str = "configure credentials the AWS CLI way: `AWS_PROFILE` or `--profile`, `aws sso login`, \
`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, or a web identity in CI";

/// A guess at one request's latency, to size the look-ups in flight ([`Pacer::concurrency`]);
/// the pacer's rate, not this, bounds the requests per second.
const LATENCY_GUESS: Duration = Duration::from_millis(250);

/// Why a pool could not be read: the operation, the target and a next step.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("failed to {action}: {reason}")]
pub struct PoolError {
    /// e.g. "describe user pool `eu-west-1_abc` in `eu-west-1`"
    pub action: String,
    pub reason: String,
    /// The service's error code, when it sent one.
    pub code: Option<String>,
    #[help]
    pub help: String,
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// Where requests go, for messages.
#[derive(Debug, Clone)]
struct Target {
    pool_id: String,
    region: String,
    endpoint: Option<String>,
    profile: Option<String>,
}

impl Target {
    fn describe(&self) -> String {
        let mut text = format!("`{}`", self.region);
        if let Some(endpoint) = &self.endpoint {
            text.push_str(&format!(" at endpoint `{endpoint}`"));
        }
        if let Some(profile) = &self.profile {
            text.push_str(&format!(" with profile `{profile}`"));
        }
        text
    }

    fn pool_region(&self) -> Option<&str> {
        self.pool_id.split_once('_').map(|(region, _)| region)
    }
}

/// Request counts by operation, shared by concurrent tasks.
type Counts = Arc<Mutex<BTreeMap<&'static str, u64>>>;

fn count(counts: &Counts, operation: &'static str, n: u64) {
    if let Ok(mut requests) = counts.lock() {
        *requests.entry(operation).or_default() += n;
    }
}

/// Reads user pools through the Cognito API.
pub struct CognitoPool {
    client: Client,
    target: Target,
    pacer: Arc<Pacer>,
    requests: Counts,
    /// A forced strategy instead of the cheaper one (tests, benchmarks).
    force: Option<ReadStrategy>,
    /// A forced way to read memberships instead of the cheaper one (tests, benchmarks).
    force_memberships: Option<MembershipStrategy>,
    /// Walk with one `ListUsers` chain whatever the pool's size (tests, benchmarks).
    one_chain: bool,
}

impl CognitoPool {
    /// Builds the client for `pool_id` in `region` and makes sure credentials exist, so that a
    /// missing one is reported as such rather than as a failed request. `pacer` is the run's.
    pub async fn connect(
        target: &AwsTarget,
        pool_id: &str,
        region: &str,
        pacer: Arc<Pacer>,
    ) -> Result<Self, PoolError> {
        let config = crate::aws::sdk_config(target, Some(region)).await;
        let target = Target {
            pool_id: pool_id.to_owned(),
            region: config.region().map_or_else(|| region.to_owned(), |r| r.to_string()),
            // For messages only: the SDK itself reads `AWS_ENDPOINT_URL` (and its per-service
            // and profile forms); this names the common one when `--endpoint-url` is absent.
            endpoint: target.endpoint_url.clone().or_else(|| std::env::var("AWS_ENDPOINT_URL").ok()),
            profile: target.profile.clone(),
        };
        let no_credentials = |source: Option<Box<dyn std::error::Error + Send + Sync>>| PoolError {
            action: format!("read user pool `{pool_id}` in {}", target.describe()),
            reason: "no usable AWS credentials were found".to_owned(),
            code: None,
            help: CREDENTIALS_HELP.to_owned(),
            source,
        };
        match config.credentials_provider() {
            None => return Err(no_credentials(None)),
            Some(provider) => {
                if let Err(error) = provider.provide_credentials().await {
                    return Err(no_credentials(Some(Box::new(error))));
                }
            }
        }
        // The pacer retries: the SDK must not, or its attempts would escape the pacing.
        let paced = aws_sdk_cognitoidentityprovider::config::Builder::from(&config)
            .retry_config(crate::aws::paced_retry_config())
            .build();
        Ok(CognitoPool {
            client: Client::from_conf(paced),
            target,
            pacer,
            requests: Arc::new(Mutex::new(BTreeMap::new())),
            force: None,
            force_memberships: None,
            one_chain: false,
        })
    }

    /// Reads by `strategy` whatever it costs; both strategies give the same plan.
    pub fn force_strategy(mut self, strategy: Option<ReadStrategy>) -> Self {
        self.force = strategy;
        self
    }

    /// Walks with one `ListUsers` chain, as before parallel walks; the plan is the same.
    pub fn one_chain(mut self, one: bool) -> Self {
        self.one_chain = one;
        self
    }

    /// Requests sent, by operation (retries not counted: `-v` shows them per category).
    pub fn requests(&self) -> BTreeMap<&'static str, u64> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    fn count(&self, operation: &'static str, n: u64) {
        count(&self.requests, operation, n);
    }

    /// The account's quotas of `categories` (GetProvisionedLimit), told to the pacer. Each is
    /// asked once per run; a caller without `cognito-idp:GetProvisionedLimit`, or an endpoint
    /// without the operation, keeps the documented quotas, quietly.
    async fn learn_quotas(&self, categories: &[Category]) {
        let mut asks = Vec::new();
        for &category in categories {
            let Some(name) = category.quota_name() else { continue };
            if !self.pacer.should_ask_quota(category) {
                continue;
            }
            let Ok(definition) = LimitDefinitionType::builder()
                .limit_class(LimitClass::ApiCategory)
                .attributes("Category", name)
                .build()
            else {
                continue;
            };
            self.count("GetProvisionedLimit", 1);
            asks.push(async move {
                let result = self
                    .pacer
                    .send(
                        Category::PoolRead,
                        || self.client.get_provisioned_limit().limit_definition(definition.clone()).send(),
                        // Optional: only throttling is worth a retry.
                        |e| match verdict(e) {
                            Verdict::Throttled => Verdict::Throttled,
                            _ => Verdict::Final,
                        },
                    )
                    .await;
                (category, result)
            });
        }
        for (category, result) in join_all(asks).await {
            match result {
                Ok(output) => {
                    if let Some(limit) = output.limit() {
                        self.pacer.learn_quota(category, f64::from(limit.provisioned_limit_value()));
                    }
                }
                Err(error) => self.pacer.quota_unknown(category, error.code().unwrap_or("no answer")),
            }
        }
    }

    /// The pool's settings; meanwhile, the account's quotas of `quotas`.
    async fn describe(&self, quotas: &[Category]) -> Result<ObservedPool, PoolError> {
        let id = &self.target.pool_id;
        self.count("DescribeUserPool", 1);
        self.count("GetCSVHeader", 1);
        // Three independent reads at once: a small plan is bound by latency.
        let describe =
            self.pacer.send(Category::PoolRead, || self.client.describe_user_pool().user_pool_id(id).send(), verdict);
        let header =
            self.pacer.send(Category::PoolRead, || self.client.get_csv_header().user_pool_id(id).send(), verdict);
        let quotas = self.learn_quotas(quotas);
        let (output, header, ()) = tokio::join!(describe, header, quotas);
        let output = output
            .map_err(|e| map_error(&self.target, &format!("describe user pool `{id}`"), "DescribeUserPool", e))?;
        let Some(pool) = output.user_pool() else {
            return Err(PoolError {
                action: format!("describe user pool `{id}` in {}", self.target.describe()),
                reason: "the response holds no pool".to_owned(),
                code: None,
                help: "check the endpoint: a Cognito endpoint always returns the pool".to_owned(),
                source: None,
            });
        };
        let header = header
            .map_err(|e| map_error(&self.target, &format!("get the CSV header of pool `{id}`"), "GetCSVHeader", e))?;
        let schema = pool
            .schema_attributes()
            .iter()
            .filter_map(|attribute| {
                let name = attribute.name()?;
                Some((
                    name.to_owned(),
                    SchemaAttribute {
                        required: attribute.required().unwrap_or(false),
                        mutable: attribute.mutable().unwrap_or(true),
                        custom: name.starts_with("custom:") || name.starts_with("dev:custom:"),
                    },
                ))
            })
            .collect();
        let mfa = match pool.mfa_configuration() {
            Some(UserPoolMfaType::On) => PoolMfa::On,
            Some(UserPoolMfaType::Optional) => PoolMfa::Optional,
            _ => PoolMfa::Off,
        };

        Ok(ObservedPool {
            id: pool.id().unwrap_or(id).to_owned(),
            name: pool.name().unwrap_or_default().to_owned(),
            region: self.target.region.clone(),
            endpoint: self.target.endpoint.clone(),
            csv_header: header.csv_header().to_vec(),
            schema,
            auto_verified: pool.auto_verified_attributes().iter().map(|a| a.as_str().to_owned()).collect(),
            mfa,
            username_attributes: pool.username_attributes().iter().map(|a| a.as_str().to_owned()).collect(),
            alias_attributes: pool.alias_attributes().iter().map(|a| a.as_str().to_owned()).collect(),
            // Cognito treats a pool without the setting as case-sensitive. [CASE]
            case_sensitive: pool.username_configuration().is_none_or(|c| c.case_sensitive()),
            estimated_users: u64::try_from(pool.estimated_number_of_users()).unwrap_or(0),
            users: ObservedUsers::all(Vec::new()),
            groups: BTreeMap::new(),
            memberships: None,
        })
    }

    /// Every user, in pages of 60: one chain, or one chain per partition of `sub`, a few at
    /// a time ([`super::WalkLayout`], [`Walk`]). Users come back sorted by username, whatever
    /// the order the chains finished in.
    async fn walk(
        &self,
        pool: &ObservedPool,
        needed: &BTreeSet<String>,
        keep: Keep,
        progress: &mut dyn FnMut(ReadProgress),
    ) -> Result<(Vec<RemoteUser>, u64), PoolError> {
        let estimated = pool.estimated_users;
        let layout = if self.one_chain {
            super::WalkLayout::single()
        } else {
            super::WalkLayout::for_pool(estimated, self.pacer.rate(Category::UserList))
        };
        let attributes = attributes_to_get(pool, needed);
        let mut walk = self.start_walk(layout, estimated, attributes, Some(Arc::new(needed.clone())));
        let total = walk.expected_pages();
        // What each partition being read has kept so far, and how many users it held: a
        // restarted partition starts again from nothing, a finished one joins the result.
        let mut open: BTreeMap<usize, (Vec<RemoteUser>, u64)> = BTreeMap::new();
        let mut users = Vec::new();
        let mut seen = 0;
        while let Some(event) = walk.next().await? {
            match event {
                WalkEvent::Page { partition, users: page } => {
                    let (kept, held) = open.entry(partition).or_default();
                    *held += page.len() as u64;
                    kept.extend(page.into_iter().filter(|user| keep(user)));
                    let done = walk.pages();
                    progress(ReadProgress { strategy: ReadStrategy::ListAll, done, total: total.max(done) });
                }
                WalkEvent::Restart { partition } => {
                    open.remove(&partition);
                }
                WalkEvent::Done { partition } => {
                    if let Some((kept, held)) = open.remove(&partition) {
                        users.extend(kept);
                        seen += held;
                    }
                }
            }
        }
        // Chains finish in any order; the plan must not depend on it.
        users.sort_by(|a, b| a.username.cmp(&b.username));
        Ok((users, seen))
    }

    /// A walk of every user (about `estimated`) by `layout`: `attributes` is
    /// `AttributesToGet`, and only the attributes in `needed` (all: `None`) are kept.
    fn start_walk(
        &self,
        layout: super::WalkLayout,
        estimated: u64,
        attributes: Option<Vec<String>>,
        needed: Option<Arc<BTreeSet<String>>>,
    ) -> Walk {
        let expected_pages = layout.expected_pages(estimated);
        let chains = layout
            .prefixes
            .into_iter()
            .enumerate()
            .map(|(partition, prefix)| Chain {
                client: self.client.clone(),
                target: self.target.clone(),
                pacer: Arc::clone(&self.pacer),
                requests: Arc::clone(&self.requests),
                attributes: attributes.clone(),
                filter: prefix.map(|p| format!("sub ^= \"{p}\"")),
                needed: needed.clone(),
                partition,
                cursor: Cursor::default(),
                restarts: 0,
            })
            .collect::<Vec<_>>();
        Walk {
            pool_id: self.target.pool_id.clone(),
            partitions: chains.len(),
            expected_pages,
            pending: chains.into_iter(),
            in_flight: layout.chains.max(1),
            tasks: JoinSet::new(),
            pages: 0,
            restarts: 0,
        }
    }

    /// One look-up per wanted user, as many in flight as the category's rate needs.
    async fn look_up(
        &self,
        pool: &ObservedPool,
        wanted: &Wanted,
        needed: &BTreeSet<String>,
        total: u64,
        progress: &mut dyn FnMut(ReadProgress),
    ) -> Result<Vec<RemoteUser>, PoolError> {
        let keep = Arc::new(needed.clone());
        let category = if pool.username_attributes.is_empty() { Category::UserRead } else { Category::UserList };
        let in_flight = self.pacer.concurrency(category, LATENCY_GUESS);
        let mut tasks = JoinSet::new();
        let mut pending = wanted.users.iter();
        let mut found = Vec::new();
        let mut done = 0;
        loop {
            while tasks.len() < in_flight {
                let Some(user) = pending.next() else { break };
                let job = LookUp {
                    client: self.client.clone(),
                    target: self.target.clone(),
                    pacer: Arc::clone(&self.pacer),
                    username_attributes: pool.username_attributes.clone(),
                    case_sensitive: pool.case_sensitive,
                    user: user.clone(),
                    keep: Arc::clone(&keep),
                };
                tasks.spawn(job.run());
            }
            let Some(joined) = tasks.join_next().await else { break };
            let outcome = joined.map_err(|error| PoolError {
                action: format!("look up users in pool `{}`", self.target.pool_id),
                reason: "a look-up task stopped unexpectedly".to_owned(),
                code: None,
                help: "run the command again; this is a bug if it persists".to_owned(),
                source: Some(Box::new(error)),
            })?;
            let (requests, user) = match outcome {
                Ok(result) => result,
                Err(error) => {
                    tasks.abort_all();
                    return Err(error);
                }
            };
            for (operation, n) in requests {
                self.count(operation, n);
                done += n;
            }
            found.extend(user);
            progress(ReadProgress { strategy: ReadStrategy::LookUp, done, total: total.max(done) });
        }
        // Tasks finish in any order; the plan must not depend on it.
        found.sort_by(|a, b| a.username.cmp(&b.username));
        found.dedup_by(|a, b| a.username == b.username);
        Ok(found)
    }
}

/// Which walked users to keep: those a declared user can match.
type Keep = Arc<dyn Fn(&RemoteUser) -> bool + Send + Sync>;

/// Runs futures of one task concurrently and returns their outputs in order.
async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    outputs.into_iter().map(|o| o.expect("every future finished")).collect()
}

/// A walk of every user of a pool, partition by partition (`sub ^= "prefix"`, see
/// [`super::WalkLayout`]): a few `ListUsers` chains at once, each one page ahead of its
/// reader, so that memory holds at most one page per chain. Both `plan` (which keeps the
/// users a declared user can match) and `export` (which spills every user to a file) read
/// the pool through it.
///
/// A pagination token lives an hour \[LISTUSERS-GUIDE\]: a chain that outlived it starts its
/// partition again, not the walk, at most `CHAIN_RESTARTS` times. The reader hears of it
/// ([`WalkEvent::Restart`]) and drops what that partition gave so far.
pub struct Walk {
    pool_id: String,
    partitions: usize,
    expected_pages: u64,
    pending: std::vec::IntoIter<Chain>,
    in_flight: usize,
    tasks: JoinSet<(Chain, ChainStep)>,
    pages: u64,
    restarts: u64,
}

/// What a [`Walk`] read next.
#[derive(Debug)]
pub enum WalkEvent {
    /// A page of partition `partition`'s users.
    Page { partition: usize, users: Vec<RemoteUser> },
    /// Partition `partition`'s token expired: the pages it gave are void, and it is read
    /// again from its start.
    Restart { partition: usize },
    /// Partition `partition` was read to its end: its pages are final.
    Done { partition: usize },
}

impl Walk {
    /// The next page, restart or finished partition; `None` once every partition is done.
    /// Partitions are started in order, at most the layout's `chains` at once: with one,
    /// every event of a partition comes before any of the next.
    pub async fn next(&mut self) -> Result<Option<WalkEvent>, PoolError> {
        while self.tasks.len() < self.in_flight {
            let Some(chain) = self.pending.next() else { break };
            self.tasks.spawn(chain.step());
        }
        let Some(joined) = self.tasks.join_next().await else { return Ok(None) };
        let (chain, step) = joined.map_err(|error| PoolError {
            action: format!("list users in pool `{}`", self.pool_id),
            reason: "a listing task stopped unexpectedly".to_owned(),
            code: None,
            help: "run the command again; this is a bug if it persists".to_owned(),
            source: Some(Box::new(error)),
        })?;
        let partition = chain.partition;
        let event = match step {
            ChainStep::Page(users) => {
                self.pages += 1;
                WalkEvent::Page { partition, users }
            }
            ChainStep::Restart => {
                self.restarts += 1;
                WalkEvent::Restart { partition }
            }
            ChainStep::Done => WalkEvent::Done { partition },
            ChainStep::Failed(error) => {
                self.tasks.abort_all();
                return Err(error);
            }
        };
        // The chain fetches its next page while the reader handles this one.
        if !matches!(event, WalkEvent::Done { .. }) {
            self.tasks.spawn(chain.step());
        }
        Ok(Some(event))
    }

    /// Pages read so far, those of restarted partitions included.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// Partitions started again so far because their token expired.
    pub fn restarts(&self) -> u64 {
        self.restarts
    }

    /// Pages the walk is expected to take ([`super::WalkLayout::expected_pages`]).
    pub fn expected_pages(&self) -> u64 {
        self.expected_pages
    }

    /// How many partitions the pool is read in.
    pub fn partitions(&self) -> usize {
        self.partitions
    }
}

/// One `ListUsers` chain over a partition of the pool (`filter`: `sub ^= "prefix"`; none:
/// the whole pool), owned so that each of its pages can be fetched by a task.
struct Chain {
    client: Client,
    target: Target,
    pacer: Arc<Pacer>,
    requests: Counts,
    attributes: Option<Vec<String>>,
    filter: Option<String>,
    /// The attributes to keep (all: `None`).
    needed: Option<Arc<BTreeSet<String>>>,
    partition: usize,
    cursor: Cursor,
    restarts: u32,
}

/// What one step of a chain did.
enum ChainStep {
    Page(Vec<RemoteUser>),
    /// The token expired; the chain is back at its partition's start.
    Restart,
    Done,
    Failed(PoolError),
}

/// Times a partition is read again from its start after its pagination token expired.
const CHAIN_RESTARTS: u32 = 3;

impl Chain {
    /// Fetches the chain's next page.
    async fn step(mut self) -> (Self, ChainStep) {
        let had_token = self.cursor.token.is_some();
        let page = fetch_page(
            &self.client,
            &self.target,
            &self.pacer,
            &self.requests,
            self.filter.as_deref(),
            self.attributes.as_ref(),
            self.needed.as_deref(),
            &mut self.cursor,
        )
        .await;
        let step = match page {
            Ok(Some(users)) => ChainStep::Page(users),
            Ok(None) => ChainStep::Done,
            // Whether the hour counts from the chain's first page or from the token's own
            // page does not matter here; the error an expired token answers is undocumented
            // ([`token_expired`]).
            Err(error) if had_token && token_expired(error.code.as_deref()) && self.restarts < CHAIN_RESTARTS => {
                self.restarts += 1;
                self.cursor = Cursor::default();
                ChainStep::Restart
            }
            Err(error) => ChainStep::Failed(error),
        };
        (self, step)
    }
}

/// Whether a `ListUsers` error, answered for a page asked for with a pagination token, may
/// mean the token expired. Cognito does not document the code: the emulator answers
/// `InvalidParameterException` (its choice) or `NotAuthorizedException` (switch
/// `expired_token_error`), both errors the service model declares for ListUsers, and the
/// conformance kit's probe `expired_token_error` finds out which. A first page (no token)
/// answering either is not retried, so a real permission error still surfaces at once.
fn token_expired(code: Option<&str>) -> bool {
    matches!(code, Some("InvalidParameterException" | "NotAuthorizedException"))
}

/// Where a `ListUsers` chain is.
#[derive(Debug, Default)]
struct Cursor {
    token: Option<String>,
    previous: Option<String>,
    done: bool,
    pages: u64,
}

/// The next page of a chain, every attribute or `attributes`; `None` after the last page.
/// Each user keeps only the attributes in `keep`, when given: a walk holds its users at once.
#[allow(clippy::too_many_arguments)]
async fn fetch_page(
    client: &Client,
    target: &Target,
    pacer: &Pacer,
    requests: &Counts,
    filter: Option<&str>,
    attributes: Option<&Vec<String>>,
    keep: Option<&BTreeSet<String>>,
    cursor: &mut Cursor,
) -> Result<Option<Vec<RemoteUser>>, PoolError> {
    if cursor.done {
        return Ok(None);
    }
    let id = &target.pool_id;
    count(requests, "ListUsers", 1);
    let token = cursor.token.take();
    let output = pacer
        .send(
            Category::UserList,
            || {
                client
                    .list_users()
                    .user_pool_id(id)
                    .limit(super::PAGE_SIZE as i32)
                    .set_filter(filter.map(str::to_owned))
                    .set_pagination_token(token.clone())
                    .set_attributes_to_get(attributes.cloned())
                    .send()
            },
            verdict,
        )
        .await
        .map_err(|e| map_error(target, &format!("list users in pool `{id}`"), "ListUsers", e))?;
    cursor.pages += 1;
    let users = output
        .users()
        .iter()
        .map(|user| RemoteUser {
            username: user.username().unwrap_or_default().to_owned(),
            attributes: user
                .attributes()
                .iter()
                .filter(|a| keep.is_none_or(|keep| keep.contains(a.name())))
                .filter_map(|a| a.value().map(|v| (a.name(), v)))
                .collect(),
            status: user.user_status().map(|s| s.as_str()).unwrap_or_default().to_owned(),
            enabled: user.enabled(),
            groups: BTreeSet::new(),
        })
        .collect();
    match output.pagination_token() {
        // The same token twice would page forever.
        Some(next) if Some(next) == cursor.previous.as_deref() => {
            return Err(PoolError {
                action: format!("list users in pool `{id}` in {}", target.describe()),
                reason: format!("the endpoint returned the same pagination token twice, after {} pages", cursor.pages),
                code: None,
                help: "check the endpoint: Cognito never repeats a token".to_owned(),
                source: None,
            });
        }
        Some(next) if !next.is_empty() => {
            cursor.token = Some(next.to_owned());
            cursor.previous = cursor.token.clone();
        }
        _ => cursor.done = true,
    }
    Ok(Some(users))
}

/// Reading a whole pool for `export`: its settings, then every user with every attribute,
/// one page at a time, so that the caller writes a page out before the next one is read.
impl CognitoPool {
    /// The pool's settings (DescribeUserPool and GetCSVHeader), without its users.
    pub async fn describe_pool(&self) -> Result<ObservedPool, PoolError> {
        self.describe(&[Category::UserList]).await
    }

    /// A walk of every user of `pool` (as [`Self::describe_pool`] read it), `ListUsers` pages
    /// of 60 with every attribute, one partition at a time: every event of a partition comes
    /// before any of the next, so a restarted partition is the tail of what was read.
    pub fn export_walk(&self, pool: &ObservedPool) -> Walk {
        let layout = super::WalkLayout::with_chains(pool.estimated_users, self.pacer.rate(Category::UserList), 1);
        self.start_walk(layout, pool.estimated_users, None, None)
    }
}

impl PoolReader for CognitoPool {
    async fn snapshot(
        &self,
        wanted: &Wanted,
        progress: &mut dyn FnMut(ReadProgress),
    ) -> Result<ObservedPool, PoolError> {
        let mut pool = self.describe(&[Category::UserList, Category::UserRead]).await?;
        let cost = wanted.look_up_cost(&pool.username_attributes);
        let strategy = match (self.force, cost) {
            // A look-up that cannot be made (an over-long filter) leaves only the walk.
            (Some(ReadStrategy::LookUp), Some(_)) => ReadStrategy::LookUp,
            (Some(ReadStrategy::ListAll), _) => ReadStrategy::ListAll,
            _ => choose_strategy(pool.estimated_users, cost),
        };
        // The declared attributes, and the sign-in ones that matching needs.
        let mut needed = wanted.attributes.clone();
        needed.extend(pool.username_attributes.iter().cloned());
        pool.users = match strategy {
            ReadStrategy::ListAll => {
                // Keep only the pool users a declared user can match; count the others.
                let keys: HashSet<String> =
                    wanted.users.iter().flat_map(|u| pool.declared_keys(&u.username, &u.sign_in)).collect();
                let matcher = pool.clone();
                let keep: Keep =
                    Arc::new(move |user: &RemoteUser| matcher.remote_keys(user).iter().any(|k| keys.contains(k)));
                let (users, total) = self.walk(&pool, &needed, keep, progress).await?;
                ObservedUsers::All { users, total }
            }
            ReadStrategy::LookUp => {
                let total = cost.unwrap_or_default();
                ObservedUsers::Found(self.look_up(&pool, wanted, &needed, total, progress).await?)
            }
        };
        if !wanted.groups.is_empty() {
            self.read_memberships(&mut pool, wanted).await?;
        }
        Ok(pool)
    }
}

/// Groups and memberships (SPEC §8): the pool's groups, then the existing declared users'
/// memberships in the groups the manifest mentions, by the cheaper of one `ListUsersInGroup`
/// walk per group and one `AdminListGroupsForUser` per user.
impl CognitoPool {
    /// Reads memberships by `strategy` whatever it costs; both give the same plan.
    pub fn force_membership_strategy(mut self, strategy: Option<MembershipStrategy>) -> Self {
        self.force_memberships = strategy;
        self
    }

    /// Every group of the pool (ListGroups, 60 a page).
    pub async fn list_groups(&self) -> Result<BTreeMap<String, RemoteGroup>, PoolError> {
        let id = &self.target.pool_id;
        let mut groups = BTreeMap::new();
        let mut token: Option<String> = None;
        loop {
            self.count("ListGroups", 1);
            let next = token.take();
            let output = self
                .pacer
                .send(
                    Category::PoolRead,
                    || {
                        self.client
                            .list_groups()
                            .user_pool_id(id)
                            .limit(super::GROUP_PAGE_SIZE as i32)
                            .set_next_token(next.clone())
                            .send()
                    },
                    verdict,
                )
                .await
                .map_err(|e| map_error(&self.target, &format!("list the groups of pool `{id}`"), "ListGroups", e))?;
            for group in output.groups() {
                let Some(name) = group.group_name() else { continue };
                groups.insert(
                    name.to_owned(),
                    RemoteGroup {
                        description: group.description().filter(|d| !d.is_empty()).map(str::to_owned),
                        precedence: group.precedence().map(i64::from),
                        role_arn: group.role_arn().map(str::to_owned),
                    },
                );
            }
            match output.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => break,
            }
        }
        Ok(groups)
    }

    /// The members of one group, by pool username (ListUsersInGroup, 60 a page).
    pub async fn group_members(&self, group: &str) -> Result<Vec<RemoteUser>, PoolError> {
        let id = &self.target.pool_id;
        let mut members = Vec::new();
        let mut token: Option<String> = None;
        loop {
            self.count("ListUsersInGroup", 1);
            let next = token.take();
            let output = self
                .pacer
                .send(
                    Category::UserList,
                    || {
                        self.client
                            .list_users_in_group()
                            .user_pool_id(id)
                            .group_name(group)
                            .limit(super::GROUP_PAGE_SIZE as i32)
                            .set_next_token(next.clone())
                            .send()
                    },
                    verdict,
                )
                .await
                .map_err(|e| {
                    map_error(
                        &self.target,
                        &format!("list the users in group `{group}` of pool `{id}`"),
                        "ListUsersInGroup",
                        e,
                    )
                })?;
            members.extend(output.users().iter().map(|user| {
                RemoteUser {
                    username: user.username().unwrap_or_default().to_owned(),
                    attributes: user
                        .attributes()
                        .iter()
                        .filter_map(|a| a.value().map(|v| (a.name().to_owned(), v.to_owned())))
                        .collect(),
                    status: user.user_status().map(|s| s.as_str()).unwrap_or_default().to_owned(),
                    enabled: user.enabled(),
                    groups: BTreeSet::new(),
                }
            }));
            match output.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => break,
            }
        }
        Ok(members)
    }

    /// The groups of one user, by the pool's username (AdminListGroupsForUser, 60 a page); an
    /// empty list for a user that no longer exists.
    pub async fn groups_of(&self, username: &str) -> Result<BTreeSet<String>, PoolError> {
        let id = &self.target.pool_id;
        let mut groups = BTreeSet::new();
        let mut token: Option<String> = None;
        loop {
            self.count("AdminListGroupsForUser", 1);
            let next = token.take();
            let result = self
                .pacer
                .send(
                    Category::UserRead,
                    || {
                        self.client
                            .admin_list_groups_for_user()
                            .user_pool_id(id)
                            .username(username)
                            .limit(super::GROUP_PAGE_SIZE as i32)
                            .set_next_token(next.clone())
                            .send()
                    },
                    verdict,
                )
                .await;
            let output = match result {
                Ok(output) => output,
                Err(error) if error.code() == Some("UserNotFoundException") => return Ok(BTreeSet::new()),
                Err(error) => {
                    return Err(map_error(
                        &self.target,
                        &format!("list the groups of user `{username}` in pool `{id}`"),
                        "AdminListGroupsForUser",
                        error,
                    ));
                }
            };
            groups.extend(output.groups().iter().filter_map(|g| g.group_name().map(str::to_owned)));
            match output.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => break,
            }
        }
        Ok(groups)
    }

    /// Of `usernames` (the pool's), those with no MFA method enabled ([`Self::mfa_enabled`]);
    /// 32 look-ups at a time, paced as UserRead.
    pub async fn without_mfa(&self, usernames: &[String]) -> Result<BTreeSet<String>, PoolError> {
        let mut without = BTreeSet::new();
        for chunk in usernames.chunks(32) {
            let answers = join_all(chunk.iter().map(|u| self.mfa_enabled(u)).collect()).await;
            for (username, answer) in chunk.iter().zip(answers) {
                if answer? == Some(false) {
                    without.insert(username.clone());
                }
            }
        }
        Ok(without)
    }

    /// Whether the user (by the pool's username) has an MFA method enabled: AdminGetUser's
    /// `UserMFASettingList`, or the legacy `MFAOptions`, is not empty. `None` for a user that
    /// no longer exists.
    pub async fn mfa_enabled(&self, username: &str) -> Result<Option<bool>, PoolError> {
        let id = &self.target.pool_id;
        self.count("AdminGetUser", 1);
        let result = self
            .pacer
            .send(
                Category::UserRead,
                || self.client.admin_get_user().user_pool_id(id).username(username).send(),
                verdict,
            )
            .await;
        match result {
            Ok(output) => Ok(Some(!output.user_mfa_setting_list().is_empty() || !output.mfa_options().is_empty())),
            Err(error) if error.code() == Some("UserNotFoundException") => Ok(None),
            Err(error) => Err(map_error(
                &self.target,
                &format!("read the MFA settings of user `{username}` in pool `{id}`"),
                "AdminGetUser",
                error,
            )),
        }
    }

    /// Fills `pool.groups` and, for every user in `pool.users`, its memberships among
    /// `wanted.groups`.
    async fn read_memberships(&self, pool: &mut ObservedPool, wanted: &Wanted) -> Result<(), PoolError> {
        pool.groups = self.list_groups().await?;
        let existing_groups: Vec<&String> = wanted.groups.iter().filter(|g| pool.groups.contains_key(*g)).collect();
        let users = match &mut pool.users {
            ObservedUsers::All { users, .. } | ObservedUsers::Found(users) => users,
        };
        if users.is_empty() {
            return Ok(());
        }
        let members = wanted.declared_members();
        let walk_cost = group_walk_cost(
            &existing_groups.iter().map(|g| members.get(g.as_str()).copied().unwrap_or(0)).collect::<Vec<_>>(),
        );
        let strategy =
            self.force_memberships.unwrap_or_else(|| choose_membership_strategy(walk_cost, users.len() as u64));
        match strategy {
            MembershipStrategy::GroupWalk => {
                let by_name: std::collections::HashMap<String, usize> =
                    users.iter().enumerate().map(|(i, u)| (u.username.clone(), i)).collect();
                for group in existing_groups {
                    for member in self.group_members(group).await? {
                        if let Some(&i) = by_name.get(&member.username) {
                            users[i].groups.insert(group.clone());
                        }
                    }
                }
            }
            MembershipStrategy::PerUser => {
                for user in users.iter_mut() {
                    let groups = self.groups_of(&user.username).await?;
                    user.groups = groups.into_iter().filter(|g| wanted.groups.contains(g)).collect();
                }
            }
        }
        pool.memberships = Some(strategy);
        Ok(())
    }
}

impl CognitoPool {
    /// One change of apply's second phase (SPEC §8): CreateGroup, AdminDisableUser /
    /// AdminEnableUser or AdminAddUserToGroup, idempotent (a group that exists is a
    /// success), paced by the run's pacer under its quota category (UserResourceUpdate,
    /// UserUpdate: 25/s per account, shared with the app), which retries throttling.
    pub async fn change(&self, change: &crate::changes::Change) -> Result<(), crate::changes::ChangeError> {
        use crate::changes::{Change, ChangeError};
        fn failed<E: ProvideErrorMetadata + std::error::Error, R: std::fmt::Debug>(
            error: &SdkError<E, R>,
        ) -> ChangeError {
            ChangeError {
                code: error.code().map(str::to_owned),
                message: error.message().map_or_else(|| error.to_string(), str::to_owned),
            }
        }
        let id = &self.target.pool_id;
        match change {
            Change::CreateGroup(group) => {
                self.count("CreateGroup", 1);
                let result = self
                    .pacer
                    .send(
                        Category::UserResourceUpdate,
                        || {
                            self.client
                                .create_group()
                                .user_pool_id(id)
                                .group_name(&group.name)
                                .set_description(group.description.clone())
                                .set_precedence(group.precedence.and_then(|p| i32::try_from(p).ok()))
                                .set_role_arn(group.role_arn.clone())
                                .send()
                        },
                        verdict,
                    )
                    .await;
                match result {
                    Ok(_) => Ok(()),
                    // Created by an earlier, interrupted run (or anyone): it exists, as declared
                    // or not; existing groups are never updated.
                    Err(error) if error.code() == Some("GroupExistsException") => Ok(()),
                    Err(error) => Err(failed(&error)),
                }
            }
            Change::SetEnabled { pool_username, enabled: true, .. } => {
                self.count("AdminEnableUser", 1);
                self.pacer
                    .send(
                        Category::UserUpdate,
                        || self.client.admin_enable_user().user_pool_id(id).username(pool_username).send(),
                        verdict,
                    )
                    .await
                    .map(|_| ())
                    .map_err(|e| failed(&e))
            }
            Change::SetEnabled { pool_username, enabled: false, .. } => {
                self.count("AdminDisableUser", 1);
                self.pacer
                    .send(
                        Category::UserUpdate,
                        || self.client.admin_disable_user().user_pool_id(id).username(pool_username).send(),
                        verdict,
                    )
                    .await
                    .map(|_| ())
                    .map_err(|e| failed(&e))
            }
            Change::AddToGroup { pool_username, group, .. } => {
                self.count("AdminAddUserToGroup", 1);
                self.pacer
                    .send(
                        Category::UserResourceUpdate,
                        || {
                            self.client
                                .admin_add_user_to_group()
                                .user_pool_id(id)
                                .username(pool_username)
                                .group_name(group)
                                .send()
                        },
                        verdict,
                    )
                    .await
                    .map(|_| ())
                    .map_err(|e| failed(&e))
            }
        }
    }
}

/// One declared user's look-up, owned so that it can run as a task.
struct LookUp {
    client: Client,
    target: Target,
    pacer: Arc<Pacer>,
    username_attributes: Vec<String>,
    case_sensitive: bool,
    user: WantedUser,
    keep: Arc<BTreeSet<String>>,
}

type LookUpResult = Result<(Vec<(&'static str, u64)>, Option<RemoteUser>), PoolError>;

impl LookUp {
    async fn run(self) -> LookUpResult {
        let id = &self.target.pool_id;
        if self.username_attributes.is_empty() {
            let result = self
                .pacer
                .send(
                    Category::UserRead,
                    || self.client.admin_get_user().user_pool_id(id).username(&self.user.username).send(),
                    verdict,
                )
                .await;
            let user = match result {
                Ok(output) => {
                    let user = remote_user(
                        output.username(),
                        output.user_attributes(),
                        output.user_status().map(|s| s.as_str()),
                        output.enabled(),
                        &self.keep,
                    );
                    // AdminGetUser also answers to an alias (e.g. `preferred_username`): only the
                    // user whose username is the declared one counts, as in a walk.
                    let fold = |name: &str| if self.case_sensitive { name.to_owned() } else { name.to_lowercase() };
                    (fold(&user.username) == fold(&self.user.username)).then_some(user)
                }
                Err(error) if error.code() == Some("UserNotFoundException") => None,
                Err(error) => {
                    return Err(map_error(
                        &self.target,
                        &format!("look up user `{}` in pool `{id}`", self.user.username),
                        "AdminGetUser",
                        error,
                    ));
                }
            };
            return Ok((vec![("AdminGetUser", 1)], user));
        }
        let mut requests = 0;
        for attribute in &self.username_attributes {
            let Some(value) = self.user.sign_in.get(attribute) else { continue };
            let Some(filter) = filter_for(attribute, value) else { continue };
            requests += 1;
            let output = self
                .pacer
                .send(
                    Category::UserList,
                    || {
                        self.client
                            .list_users()
                            .user_pool_id(id)
                            .filter(filter.clone())
                            .limit(super::PAGE_SIZE as i32)
                            .send()
                    },
                    verdict,
                )
                .await
                .map_err(|e| {
                    map_error(&self.target, &format!("look up users by `{attribute}` in pool `{id}`"), "ListUsers", e)
                })?;
            let wanted_key = sign_in_key(attribute, value);
            let hit = output.users().iter().find(|u| {
                u.attributes().iter().any(|a| {
                    a.name() == attribute && a.value().is_some_and(|v| sign_in_key(attribute, v) == wanted_key)
                })
            });
            if let Some(user) = hit {
                let user = remote_user(
                    user.username().unwrap_or_default(),
                    user.attributes(),
                    user.user_status().map(|s| s.as_str()),
                    user.enabled(),
                    &self.keep,
                );
                return Ok((vec![("ListUsers", requests)], Some(user)));
            }
        }
        Ok((vec![("ListUsers", requests)], None))
    }
}

/// `AttributesToGet` for a walk: only the attributes the plan compares, when asking for
/// them is safe. Cognito fails a page with `AttributesToGet` unless every user in it has
/// every attribute asked for, which only the pool's required attributes (and `sub`)
/// guarantee. \[MODEL: ListUsers\] Otherwise every attribute comes back and the unneeded
/// ones are dropped on arrival.
fn attributes_to_get(pool: &ObservedPool, needed: &BTreeSet<String>) -> Option<Vec<String>> {
    let always_set = |name: &String| name == "sub" || pool.schema.get(name).is_some_and(|a| a.required);
    (!needed.is_empty() && needed.iter().all(always_set)).then(|| needed.iter().cloned().collect())
}

/// Converts a user, keeping only the attributes the plan compares (`keep`): a 100k-user walk
/// holds every user at once.
fn remote_user(
    username: &str,
    attributes: &[AttributeType],
    status: Option<&str>,
    enabled: bool,
    keep: &BTreeSet<String>,
) -> RemoteUser {
    RemoteUser {
        username: username.to_owned(),
        attributes: attributes
            .iter()
            .filter(|a| keep.contains(a.name()))
            .filter_map(|a| a.value().map(|v| (a.name().to_owned(), v.to_owned())))
            .collect(),
        status: status.unwrap_or_default().to_owned(),
        enabled,
        groups: BTreeSet::new(),
    }
}

/// Turns an SDK error into a [`PoolError`] that names the target and the next step.
/// Branches on the service's error code, never on its message.
fn map_error<E, R>(target: &Target, action: &str, operation: &str, error: SdkError<E, R>) -> PoolError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let action = format!("{action} in {}", target.describe());
    let code = error.code().map(str::to_owned);
    let pool = &target.pool_id;
    let (reason, help) = match (&error, code.as_deref()) {
        (_, Some("ResourceNotFoundException")) => match target.pool_region() {
            Some(pool_region) if pool_region != target.region => (
                format!("pool `{pool}` is not in region `{}`: its id names region `{pool_region}`", target.region),
                format!("drop `--region {}` (the pool id names its region), or use the pool id of that region", target.region),
            ),
            _ => (
                format!("user pool `{pool}` does not exist in region `{}`", target.region),
                "check `pool.id` in the manifest (or `--pool-id`), and the account your credentials belong to (`aws sts get-caller-identity`)".to_owned(),
            ),
        },
        (_, Some(
            "AccessDeniedException" | "AccessDenied" | "NotAuthorizedException" | "UnauthorizedOperation",
        )) => (
            format!("the caller may not call `cognito-idp:{operation}`"),
            format!(
                "grant the IAM action `cognito-idp:{operation}` on `arn:aws:cognito-idp:{}:<account>:userpool/{pool}` to the identity these credentials belong to; the README's IAM section lists what each command needs, with ready-made policies in `examples/github-actions/`",
                target.region
            ),
        ),
        (_, Some(
            "UnrecognizedClientException" | "InvalidClientTokenId" | "InvalidSignatureException" | "ExpiredTokenException"
            | "SignatureDoesNotMatch",
        )) => (
            "AWS rejected the credentials".to_owned(),
            "refresh the credentials (`aws sso login`, a new session token), or pick another `--profile`".to_owned(),
        ),
        (_, Some("TooManyRequestsException" | "ThrottlingException" | "Throttling")) => (
            "Cognito kept throttling the requests after every retry".to_owned(),
            "lower `--max-rps`, or run the plan when other clients of this account and region are quieter".to_owned(),
        ),
        (SdkError::DispatchFailure(failure), _) if failure.is_io() || failure.is_timeout() => (
            "the endpoint could not be reached".to_owned(),
            match &target.endpoint {
                Some(endpoint) => format!("check that `{endpoint}` (`--endpoint-url` or `AWS_ENDPOINT_URL`) is up and reachable"),
                None => format!("check the network connection to the Cognito endpoint of region `{}`", target.region),
            },
        ),
        (SdkError::TimeoutError(_), _) => (
            "the request timed out".to_owned(),
            "check the network, then run the command again".to_owned(),
        ),
        (_, Some(code)) => (
            format!("Cognito answered `{code}`{}", error.message().map(|m| format!(": {m}")).unwrap_or_default()),
            "see the error code in the Cognito API reference; run again with `-v` for details".to_owned(),
        ),
        _ => (
            "the request failed".to_owned(),
            "check the endpoint, region and credentials, then run the command again".to_owned(),
        ),
    };
    PoolError { action, reason, code, help, source: Some(Box::new(error)) }
}

#[cfg(test)]
mod tests {
    use aws_sdk_cognitoidentityprovider::error::{ConnectorError, ErrorMetadata};
    use aws_sdk_cognitoidentityprovider::operation::describe_user_pool::DescribeUserPoolError;

    use super::*;

    fn target(region: &str, endpoint: Option<&str>) -> Target {
        Target {
            pool_id: "eu-west-1_Abc123".to_owned(),
            region: region.to_owned(),
            endpoint: endpoint.map(str::to_owned),
            profile: None,
        }
    }

    fn service(code: &str) -> SdkError<DescribeUserPoolError, ()> {
        let meta = ErrorMetadata::builder().code(code).message("from the service").build();
        SdkError::service_error(DescribeUserPoolError::generic(meta), ())
    }

    fn mapped(target: &Target, error: SdkError<DescribeUserPoolError, ()>) -> (String, String) {
        let error = map_error(target, "describe user pool `eu-west-1_Abc123`", "DescribeUserPool", error);
        (error.to_string(), error.help)
    }

    #[test]
    fn either_answer_for_an_expired_token_restarts_a_chain() {
        assert!(token_expired(Some("InvalidParameterException")));
        assert!(token_expired(Some("NotAuthorizedException")));
        assert!(!token_expired(Some("ResourceNotFoundException")));
        assert!(!token_expired(None));
    }

    #[test]
    fn attributes_are_asked_for_only_when_every_user_has_them() {
        let mut pool = ObservedPool { auto_verified: vec![], ..ObservedPool::fixture(vec![]) };
        let needed: BTreeSet<String> = ["email".to_owned(), "given_name".to_owned()].into();
        assert_eq!(attributes_to_get(&pool, &needed), None);
        pool.schema.insert("email".into(), SchemaAttribute { required: true, mutable: true, custom: false });
        assert_eq!(attributes_to_get(&pool, &needed), None);
        pool.schema.insert("given_name".into(), SchemaAttribute { required: true, mutable: true, custom: false });
        assert_eq!(attributes_to_get(&pool, &needed), Some(vec!["email".to_owned(), "given_name".to_owned()]));
        assert_eq!(attributes_to_get(&pool, &BTreeSet::new()), None);
    }

    #[test]
    fn missing_permission_names_the_iam_action() {
        let (message, help) = mapped(&target("eu-west-1", None), service("AccessDeniedException"));
        assert_eq!(
            message,
            "failed to describe user pool `eu-west-1_Abc123` in `eu-west-1`: the caller may not call `cognito-idp:DescribeUserPool`"
        );
        assert!(help.starts_with("grant the IAM action `cognito-idp:DescribeUserPool` on `arn:aws:cognito-idp:eu-west-1:<account>:userpool/eu-west-1_Abc123`"), "{help}");
    }

    #[test]
    fn a_missing_pool_and_a_region_mismatch_are_told_apart() {
        let (message, help) = mapped(&target("eu-west-1", None), service("ResourceNotFoundException"));
        assert!(message.ends_with("user pool `eu-west-1_Abc123` does not exist in region `eu-west-1`"), "{message}");
        assert!(help.contains("`pool.id`"), "{help}");
        let (message, help) = mapped(&target("us-east-1", None), service("ResourceNotFoundException"));
        assert!(
            message.ends_with("pool `eu-west-1_Abc123` is not in region `us-east-1`: its id names region `eu-west-1`"),
            "{message}"
        );
        assert!(help.starts_with("drop `--region us-east-1`"), "{help}");
    }

    #[test]
    fn credentials_throttling_and_the_network() {
        let (message, _) = mapped(&target("eu-west-1", None), service("UnrecognizedClientException"));
        assert!(message.ends_with("AWS rejected the credentials"), "{message}");
        let (_, help) = mapped(&target("eu-west-1", None), service("TooManyRequestsException"));
        assert!(help.starts_with("lower `--max-rps`"), "{help}");
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let error = SdkError::dispatch_failure(ConnectorError::io(Box::new(refused)));
        let (message, help) = mapped(&target("eu-west-1", Some("http://127.0.0.1:9")), error);
        assert_eq!(
            message,
            "failed to describe user pool `eu-west-1_Abc123` in `eu-west-1` at endpoint `http://127.0.0.1:9`: the endpoint could not be reached"
        );
        assert!(help.contains("`http://127.0.0.1:9`"), "{help}");
        let (message, _) = mapped(&target("eu-west-1", None), service("SomethingNew"));
        assert!(message.ends_with("Cognito answered `SomethingNew`: from the service"), "{message}");
    }
}

//! The one pacing policy: how fast cognito-sync calls Cognito, per quota category, and how
//! it retries. Every adapter sends its Cognito requests through one [`Pacer`] per run
//! ([`Pacer::send`]), so that a run never exceeds its share of a category whatever reads or
//! writes it combines.
//!
//! Cognito's request quotas are per account and Region and per *category*, shared by every
//! client, the production app included (SPEC §10; reference `cognito-import.md` §8, §10):
//!
//! | category | operations cognito-sync sends | documented quota |
//! | --- | --- | --- |
//! | [`Category::UserList`] | ListUsers, ListUsersInGroup | 30/s (not adjustable) |
//! | [`Category::UserRead`] | AdminGetUser, AdminListGroupsForUser | 120/s |
//! | [`Category::UserResourceUpdate`] | AdminAddUserToGroup, CreateGroup | 25/s |
//! | [`Category::UserUpdate`] | AdminDisableUser, AdminEnableUser | 25/s |
//! | [`Category::PoolRead`] | DescribeUserPool, GetCSVHeader, ListGroups, GetProvisionedLimit | 15/s (UserPoolRead) |
//! | [`Category::ImportJob`] | the import-job operations | not documented: 5/s assumed |
//!
//! The policy:
//! - **A token bucket per category**, its rate a share of the category's quota (default
//!   [`DEFAULT_SHARE`]: half, the other half is the app's), with a burst of a fifth of a
//!   second's worth (at least 4), so that a small plan's few requests leave at once.
//!   `--quota-share` changes the share; `--max-rps N` caps every category at N requests a
//!   second and `--max-rps CATEGORY=N` sets one category's rate outright (it wins over the
//!   share and over the account's limit). The quota is the documented one, or the one
//!   GetProvisionedLimit reports for the account ([`Pacer::learn_quota`]).
//! - **Adaptive**: a throttled request halves its category's rate (not below
//!   [`MIN_RATE`]); after a second's worth of requests without throttling, the rate grows by
//!   half again, up to its ceiling.
//! - **Retries**: a throttled request is retried after a jittered back-off for as long as
//!   its category makes progress (some request of it succeeded within [`STALL`]); transient
//!   failures (5xx, a dropped connection, a timeout) are retried up to
//!   [`TRANSIENT_ATTEMPTS`] times. Clients whose requests go through the pacer are built
//!   without the SDK's own retries ([`crate::aws::paced_retry_config`]), so every attempt
//!   is paced and counted once.
//!
//! The bucket arithmetic ([`Bucket`]) takes the time as a parameter and is unit-tested
//! without a runtime; [`Pacer`] adds the clock and the sleeping.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::output::Printer;

/// A Cognito request-rate quota category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// ListUsers, ListUsersInGroup.
    UserList,
    /// AdminGetUser, AdminListGroupsForUser.
    UserRead,
    /// AdminAddUserToGroup, CreateGroup.
    UserResourceUpdate,
    /// AdminDisableUser, AdminEnableUser.
    UserUpdate,
    /// DescribeUserPool, GetCSVHeader, ListGroups, GetProvisionedLimit (UserPoolRead).
    PoolRead,
    /// CreateUserImportJob, StartUserImportJob, DescribeUserImportJob, ListUserImportJobs.
    ImportJob,
}

impl Category {
    pub const ALL: [Category; 6] = [
        Category::UserList,
        Category::UserRead,
        Category::UserResourceUpdate,
        Category::UserUpdate,
        Category::PoolRead,
        Category::ImportJob,
    ];

    /// Cognito's name of the category, as GetProvisionedLimit's `Category` attribute and the
    /// quotas page spell it; `None` for the import-job calls, whose category is not
    /// documented.
    pub fn quota_name(self) -> Option<&'static str> {
        match self {
            Category::UserList => Some("UserList"),
            Category::UserRead => Some("UserRead"),
            Category::UserResourceUpdate => Some("UserResourceUpdate"),
            Category::UserUpdate => Some("UserUpdate"),
            Category::PoolRead => Some("UserPoolRead"),
            Category::ImportJob => None,
        }
    }

    /// The name on the command line (`--max-rps user-list=30`).
    pub fn flag_name(self) -> &'static str {
        match self {
            Category::UserList => "user-list",
            Category::UserRead => "user-read",
            Category::UserResourceUpdate => "user-resource-update",
            Category::UserUpdate => "user-update",
            Category::PoolRead => "pool-read",
            Category::ImportJob => "import-job",
        }
    }

    /// The documented default quota, requests per second per account and Region.
    /// \[QUOTAS\]; the import-job calls' category is unknown, 5/s is the reference's safe guess.
    pub fn documented_quota(self) -> f64 {
        match self {
            Category::UserList => 30.0,
            Category::UserRead => 120.0,
            Category::UserResourceUpdate | Category::UserUpdate => 25.0,
            Category::PoolRead => 15.0,
            Category::ImportJob => 5.0,
        }
    }

    fn parse(name: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.flag_name() == name || c.quota_name() == Some(name))
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.quota_name().unwrap_or("ImportJob"))
    }
}

/// The share of each quota a run takes by default: the production app uses the same quotas.
pub const DEFAULT_SHARE: f64 = 0.5;
/// A throttled category never slows below this (requests per second).
pub const MIN_RATE: f64 = 0.5;
/// A throttled request is given up when its category had no success for this long.
pub const STALL: Duration = Duration::from_secs(300);
/// Attempts of a request that fails transiently (5xx, connection, timeout).
pub const TRANSIENT_ATTEMPTS: u32 = 5;

/// One `--max-rps` value: `N` (every category) or `CATEGORY=N`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub category: Option<Category>,
    pub rps: f64,
}

impl std::str::FromStr for RateLimit {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (category, number) = match text.split_once('=') {
            Some((name, number)) => {
                let category = Category::parse(name.trim()).ok_or_else(|| {
                    let names: Vec<_> = Category::ALL.iter().map(|c| c.flag_name()).collect();
                    format!("unknown quota category `{}`; one of: {}", name.trim(), names.join(", "))
                })?;
                (Some(category), number)
            }
            None => (None, text),
        };
        let rps: f64 = number.trim().parse().map_err(|_| format!("`{}` is not a number", number.trim()))?;
        if !(0.1..=100_000.0).contains(&rps) {
            return Err(format!("{rps} is out of range: 0.1 to 100000 requests per second"));
        }
        Ok(RateLimit { category, rps })
    }
}

/// The pacing settings of a run, resolved from the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Share of each category's quota, 0 < share ≤ 1.
    pub share: f64,
    /// `--max-rps N`: a cap on every category.
    pub cap: Option<f64>,
    /// `--max-rps CATEGORY=N`: the category's rate, whatever its quota and the share.
    pub rates: BTreeMap<Category, f64>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { share: DEFAULT_SHARE, cap: None, rates: BTreeMap::new() }
    }
}

impl Policy {
    /// From `--quota-share PERCENT` and every `--max-rps` (later ones win).
    pub fn new(share_percent: Option<f64>, limits: &[RateLimit]) -> Self {
        let mut policy = Policy::default();
        if let Some(percent) = share_percent {
            policy.share = (percent / 100.0).clamp(0.001, 1.0);
        }
        for limit in limits {
            match limit.category {
                Some(category) => {
                    policy.rates.insert(category, limit.rps);
                }
                None => policy.cap = Some(limit.rps),
            }
        }
        policy
    }

    /// The rate a category runs at when nothing throttles it, given its quota.
    pub fn ceiling(&self, category: Category, quota: f64) -> f64 {
        if let Some(rate) = self.rates.get(&category) {
            return *rate;
        }
        let rate = (quota * self.share).max(MIN_RATE);
        self.cap.map_or(rate, |cap| rate.min(cap))
    }

    /// Whether the account's limit can change this category's rate.
    fn learns(&self, category: Category) -> bool {
        !self.rates.contains_key(&category)
    }
}

/// What a failed attempt means for the pacer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// `TooManyRequestsException` and its kin: slow down, then retry.
    Throttled,
    /// 5xx, a dropped connection, a timeout: retry a few times.
    Transient,
    /// Anything else: the caller's error.
    Final,
}

/// A token bucket whose rate adapts; time is passed in, as the time since the run began.
#[derive(Debug, Clone)]
pub struct Bucket {
    /// The rate when nothing throttles.
    pub ceiling: f64,
    /// The rate now.
    pub rate: f64,
    /// The quota the ceiling was derived from, and where it came from.
    pub quota: f64,
    pub quota_source: &'static str,
    tokens: f64,
    last: Duration,
    /// Successes since the rate last changed.
    calm: u64,
    pub lowest: f64,
    pub requests: u64,
    pub throttled: u64,
    pub retries: u64,
    pub last_success: Option<Duration>,
}

impl Bucket {
    pub fn new(ceiling: f64, quota: f64, quota_source: &'static str) -> Self {
        let mut bucket = Bucket {
            ceiling,
            rate: ceiling,
            quota,
            quota_source,
            tokens: 0.0,
            last: Duration::ZERO,
            calm: 0,
            lowest: ceiling,
            requests: 0,
            throttled: 0,
            retries: 0,
            last_success: None,
        };
        bucket.tokens = bucket.burst();
        bucket
    }

    /// Requests that may leave at once after a quiet spell: a fifth of a second's worth, and
    /// at least 4, so that a small run's first reads (DescribeUserPool, GetCSVHeader and the
    /// account's quotas) leave together.
    pub fn burst(&self) -> f64 {
        (self.rate / 5.0).max(4.0)
    }

    /// Takes a token for a request at `now`: how long to wait before sending it. Waiting
    /// requests queue behind each other (the tokens go negative), so concurrent callers
    /// are spaced at the rate in the order they asked.
    pub fn reserve(&mut self, now: Duration) -> Duration {
        let elapsed = now.saturating_sub(self.last).as_secs_f64();
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst());
        self.tokens -= 1.0;
        self.requests += 1;
        if self.tokens >= 0.0 { Duration::ZERO } else { Duration::from_secs_f64(-self.tokens / self.rate) }
    }

    /// A request succeeded: after a second's worth of calm, the rate grows by half.
    pub fn succeeded(&mut self, now: Duration) {
        self.last_success = Some(now);
        self.calm += 1;
        if self.rate < self.ceiling && self.calm as f64 >= self.rate.max(4.0) {
            self.rate = (self.rate * 1.5).min(self.ceiling);
            self.calm = 0;
        }
    }

    /// A request was throttled: halve the rate and drop the saved-up burst. Returns the
    /// new rate when it changed.
    pub fn throttled(&mut self) -> Option<f64> {
        self.throttled += 1;
        self.calm = 0;
        self.tokens = self.tokens.min(0.0);
        let rate = (self.rate / 2.0).max(MIN_RATE.min(self.ceiling));
        let changed = rate < self.rate;
        self.rate = rate;
        self.lowest = self.lowest.min(rate);
        changed.then_some(rate)
    }

    /// A new ceiling (the account's quota became known).
    pub fn set_ceiling(&mut self, ceiling: f64, quota: f64, source: &'static str) {
        let was_full = self.rate >= self.ceiling;
        self.ceiling = ceiling;
        self.quota = quota;
        self.quota_source = source;
        if was_full || self.rate > ceiling {
            self.rate = ceiling;
        }
        self.lowest = self.lowest.min(self.rate);
    }
}

/// The pacer of one run, shared by every adapter (`Arc<Pacer>`).
#[derive(Debug)]
pub struct Pacer {
    policy: Policy,
    start: Instant,
    buckets: Mutex<BTreeMap<Category, Bucket>>,
    jitter: Mutex<u64>,
    printer: Option<Printer>,
    /// Categories whose account quota was asked for already.
    asked: Mutex<std::collections::BTreeSet<Category>>,
    /// [`STALL`] and the first back-off, shortened in tests.
    stall: Duration,
    backoff_base: Duration,
}

/// A category's figures at the end of a run, for `-v`.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryReport {
    pub category: Category,
    pub ceiling: f64,
    pub rate: f64,
    pub lowest: f64,
    pub quota: f64,
    pub quota_source: &'static str,
    pub requests: u64,
    pub throttled: u64,
    pub retries: u64,
}

impl std::fmt::Display for CategoryReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} requests at up to {}/s ({} quota {}/s)",
            self.category,
            self.requests,
            rate(self.ceiling),
            self.quota_source,
            rate(self.quota)
        )?;
        if self.throttled > 0 || self.retries > 0 {
            write!(
                f,
                ", {} throttled, {} retried, slowed to {}/s, now {}/s",
                self.throttled,
                self.retries,
                rate(self.lowest),
                rate(self.rate)
            )?;
        }
        Ok(())
    }
}

fn rate(value: f64) -> String {
    if value.fract() == 0.0 { format!("{value:.0}") } else { format!("{value:.1}") }
}

impl Pacer {
    /// A pacer with the documented quotas; `printer` hears of rate changes (with `-v`).
    /// `seed` drives the back-off jitter.
    pub fn new(policy: Policy, printer: Option<Printer>, seed: u64) -> Self {
        let buckets = Category::ALL
            .into_iter()
            .map(|c| {
                let quota = c.documented_quota();
                (c, Bucket::new(policy.ceiling(c, quota), quota, "documented"))
            })
            .collect();
        Pacer {
            policy,
            start: Instant::now(),
            buckets: Mutex::new(buckets),
            jitter: Mutex::new(seed | 1),
            printer,
            asked: Mutex::new(std::collections::BTreeSet::new()),
            stall: STALL,
            backoff_base: Duration::from_millis(100),
        }
    }

    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn with<T>(&self, category: Category, f: impl FnOnce(&mut Bucket) -> T) -> T {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        f(buckets.get_mut(&category).expect("every category has a bucket"))
    }

    fn say(&self, text: impl std::fmt::Display) {
        if let Some(printer) = &self.printer {
            printer.detail(format!("pace: {text}"));
        }
    }

    /// The account's quota for `category` (GetProvisionedLimit's `ProvisionedLimitValue`):
    /// the ceiling becomes the share of it, unless `--max-rps CATEGORY=N` set the rate.
    pub fn learn_quota(&self, category: Category, quota: f64) {
        if quota <= 0.0 || !self.policy.learns(category) {
            return;
        }
        let ceiling = self.policy.ceiling(category, quota);
        self.with(category, |b| b.set_ceiling(ceiling, quota, "account"));
        self.say(format!("{category}: the account's quota is {}/s, using up to {}/s", rate(quota), rate(ceiling)));
    }

    /// Whether to ask the account's quota of `category`: once per run, and only when no
    /// `--max-rps CATEGORY=N` fixed its rate.
    pub fn should_ask_quota(&self, category: Category) -> bool {
        self.policy.learns(category) && self.asked.lock().unwrap_or_else(|p| p.into_inner()).insert(category)
    }

    /// The account's quota of `category` could not be read (`code`): the documented one stays.
    pub fn quota_unknown(&self, category: Category, code: &str) {
        let quota = self.with(category, |b| b.quota);
        self.say(format!(
            "{category}: the account's quota is not readable ({code}); assuming the documented {}/s",
            rate(quota)
        ));
    }

    /// The rate `category` runs at now.
    pub fn rate(&self, category: Category) -> f64 {
        self.with(category, |b| b.rate)
    }

    /// Requests of `category` that may be in flight at once to keep up with its rate at
    /// `latency` per request, with room for its burst (Little's law).
    pub fn concurrency(&self, category: Category, latency: Duration) -> usize {
        let (ceiling, burst) = self.with(category, |b| (b.ceiling, b.burst()));
        let needed = (ceiling * latency.as_secs_f64() * 1.5).ceil() + burst;
        (needed as usize).clamp(2, 256)
    }

    /// Waits for `category`'s next slot.
    pub async fn acquire(&self, category: Category) {
        let wait = self.with(category, |b| b.reserve(self.now()));
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// Sends one request of `category` through the pacer: waits for a slot, sends, and
    /// retries as the policy says (module docs). `attempt` builds and sends the request;
    /// `verdict` classifies its errors ([`crate::aws::verdict`] for SDK errors).
    pub async fn send<T, E, Fut>(
        &self,
        category: Category,
        mut attempt: impl FnMut() -> Fut,
        verdict: impl Fn(&E) -> Verdict,
    ) -> Result<T, E>
    where
        Fut: Future<Output = Result<T, E>>,
    {
        let mut failures = 0u32;
        let mut transient = 0u32;
        let mut first_throttle: Option<Duration> = None;
        loop {
            self.acquire(category).await;
            let error = match attempt().await {
                Ok(value) => {
                    self.with(category, |b| b.succeeded(self.now()));
                    return Ok(value);
                }
                Err(error) => error,
            };
            match verdict(&error) {
                Verdict::Final => return Err(error),
                Verdict::Transient => {
                    transient += 1;
                    if transient >= TRANSIENT_ATTEMPTS {
                        return Err(error);
                    }
                    // Visible with `-v`: a dead endpoint is otherwise a silent wait (#15).
                    self.say(format!(
                        "{category}: attempt {transient} of {TRANSIENT_ATTEMPTS} failed (connection, timeout or 5xx), retrying"
                    ));
                }
                Verdict::Throttled => {
                    let now = self.now();
                    let since = *first_throttle.get_or_insert(now);
                    let (changed, last_success) = self.with(category, |b| (b.throttled(), b.last_success));
                    if let Some(rate) = changed {
                        self.say(format!("{category}: throttled, slowing to {}/s", rate_text(rate)));
                    }
                    // Give up only when the category makes no progress at all.
                    let progressing = last_success.is_some_and(|t| now.saturating_sub(t) < self.stall);
                    if !progressing && now.saturating_sub(since) >= self.stall {
                        return Err(error);
                    }
                }
            }
            failures += 1;
            self.with(category, |b| b.retries += 1);
            tokio::time::sleep(self.backoff(failures)).await;
        }
    }

    /// 100 ms doubling to at most 5 s, times a jitter in [0.5, 1).
    fn backoff(&self, failures: u32) -> Duration {
        let base = self.backoff_base.saturating_mul(1 << failures.min(6).saturating_sub(1)).min(Duration::from_secs(5));
        let mut state = self.jitter.lock().unwrap_or_else(|p| p.into_inner());
        // xorshift64: jitter needs no cryptographic quality.
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        let unit = (*state >> 11) as f64 / (1u64 << 53) as f64;
        base.mul_f64(0.5 + unit / 2.0)
    }

    /// Every category that sent a request, for `-v`.
    pub fn report(&self) -> Vec<CategoryReport> {
        let buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        buckets
            .iter()
            .filter(|(_, b)| b.requests > 0)
            .map(|(category, b)| CategoryReport {
                category: *category,
                ceiling: b.ceiling,
                rate: b.rate,
                lowest: b.lowest,
                quota: b.quota,
                quota_source: b.quota_source,
                requests: b.requests,
                throttled: b.throttled,
                retries: b.retries,
            })
            .collect()
    }

    /// Prints [`Self::report`] with `-v`.
    pub fn print_report(&self) {
        for line in self.report() {
            self.say(line);
        }
    }
}

fn rate_text(value: f64) -> String {
    rate(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn max_rps_takes_a_number_or_a_category() {
        assert_eq!("25".parse::<RateLimit>(), Ok(RateLimit { category: None, rps: 25.0 }));
        assert_eq!(
            "user-list=30".parse::<RateLimit>(),
            Ok(RateLimit { category: Some(Category::UserList), rps: 30.0 })
        );
        assert_eq!("UserRead=7.5".parse::<RateLimit>(), Ok(RateLimit { category: Some(Category::UserRead), rps: 7.5 }));
        assert!("lists=3".parse::<RateLimit>().unwrap_err().starts_with("unknown quota category `lists`"));
        assert!("0".parse::<RateLimit>().is_err());
        assert!("x".parse::<RateLimit>().is_err());
    }

    #[test]
    fn ceilings_are_a_share_of_the_quota_capped_and_overridden() {
        let policy = Policy::default();
        assert_eq!(policy.ceiling(Category::UserList, 30.0), 15.0);
        assert_eq!(policy.ceiling(Category::UserRead, 120.0), 60.0);
        let policy = Policy::new(Some(100.0), &["20".parse().unwrap(), "user-read=200".parse().unwrap()]);
        assert_eq!(policy.ceiling(Category::UserList, 30.0), 20.0);
        assert_eq!(policy.ceiling(Category::UserRead, 120.0), 200.0);
        assert_eq!(policy.ceiling(Category::PoolRead, 15.0), 15.0);
        assert!(!policy.learns(Category::UserRead));
        assert!(policy.learns(Category::UserList));
    }

    #[test]
    fn a_burst_leaves_at_once_then_requests_are_spaced_at_the_rate() {
        let mut bucket = Bucket::new(30.0, 30.0, "documented");
        // a fifth of a second's worth: 6 requests at once
        for _ in 0..6 {
            assert_eq!(bucket.reserve(Duration::ZERO), Duration::ZERO);
        }
        let wait = bucket.reserve(Duration::ZERO);
        assert!((wait.as_secs_f64() - 1.0 / 30.0).abs() < 1e-9, "{wait:?}");
        let wait = bucket.reserve(Duration::ZERO);
        assert!((wait.as_secs_f64() - 2.0 / 30.0).abs() < 1e-9, "{wait:?}");
        // a quiet second refills the burst only
        for _ in 0..6 {
            assert_eq!(bucket.reserve(Duration::from_secs(2)), Duration::ZERO);
        }
        assert!(bucket.reserve(Duration::from_secs(2)) > Duration::ZERO);
    }

    #[test]
    fn n_requests_take_n_over_the_rate() {
        let mut bucket = Bucket::new(120.0, 120.0, "documented");
        let mut last = Duration::ZERO;
        for _ in 0..1000 {
            last = bucket.reserve(Duration::ZERO);
        }
        // 1000 requests, 24 of them in the burst: (1000 - 24) / 120 s
        assert!((last.as_secs_f64() - 976.0 / 120.0).abs() < 1e-6, "{last:?}");
    }

    #[test]
    fn throttling_halves_and_calm_restores() {
        let mut bucket = Bucket::new(30.0, 30.0, "documented");
        assert_eq!(bucket.throttled(), Some(15.0));
        assert_eq!(bucket.throttled(), Some(7.5));
        for i in 0..8 {
            bucket.succeeded(MS * i);
        }
        assert_eq!(bucket.rate, 11.25);
        for i in 0..100 {
            bucket.succeeded(MS * i);
        }
        assert_eq!(bucket.rate, 30.0, "back to the ceiling, never above");
        assert_eq!(bucket.lowest, 7.5);
        assert_eq!(bucket.throttled, 2);
        let mut slow = Bucket::new(0.5, 1.0, "documented");
        assert_eq!(slow.throttled(), None, "never below the floor");
    }

    #[test]
    fn the_account_quota_moves_the_ceiling() {
        let pacer = Pacer::new(Policy::new(Some(100.0), &[]), None, 1);
        pacer.learn_quota(Category::UserRead, 300.0);
        assert_eq!(pacer.rate(Category::UserRead), 300.0);
        let pacer = Pacer::new(Policy::new(None, &["user-read=10".parse().unwrap()]), None, 1);
        pacer.learn_quota(Category::UserRead, 300.0);
        assert_eq!(pacer.rate(Category::UserRead), 10.0, "an explicit rate wins");
    }

    #[test]
    fn back_off_doubles_with_jitter() {
        let pacer = Pacer::new(Policy::default(), None, 42);
        assert_eq!(pacer.backoff_base, MS * 100);
        for failures in 1..10 {
            let wait = pacer.backoff(failures);
            let base = (100u64 << (failures.min(6) - 1)).min(5000);
            assert!(wait >= MS * (base as u32) / 2 && wait < MS * base as u32, "{failures}: {wait:?}");
        }
    }

    fn quick() -> Pacer {
        let fast: Vec<RateLimit> =
            ["user-list=1000", "user-read=1000", "pool-read=1000"].iter().map(|l| l.parse().unwrap()).collect();
        let mut pacer = Pacer::new(Policy::new(None, &fast), None, 7);
        pacer.stall = MS * 1000;
        pacer.backoff_base = MS;
        pacer
    }

    #[tokio::test]
    async fn throttles_are_retried_while_progress_is_possible() {
        let pacer = quick();
        let mut calls = 0;
        let result: Result<u32, &str> = pacer
            .send(
                Category::UserList,
                || {
                    calls += 1;
                    let n = calls;
                    async move { if n < 8 { Err("throttled") } else { Ok(n) } }
                },
                |_| Verdict::Throttled,
            )
            .await;
        assert_eq!(result, Ok(8));
        let report = &pacer.report()[0];
        assert_eq!((report.requests, report.throttled, report.retries), (8, 7, 7));
        assert_eq!(report.lowest, 1000.0 / 128.0);
        // with no success at all, it gives up after the stall time
        let started = Instant::now();
        let result: Result<(), &str> =
            pacer.send(Category::UserRead, || async { Err("throttled") }, |_| Verdict::Throttled).await;
        assert_eq!(result, Err("throttled"));
        assert!(started.elapsed() >= pacer.stall);
        // transient failures: a few attempts; final errors: none
        let mut calls = 0;
        let result: Result<(), &str> = pacer
            .send(
                Category::PoolRead,
                || {
                    calls += 1;
                    async { Err("503") }
                },
                |_| Verdict::Transient,
            )
            .await;
        assert_eq!((result, calls), (Err("503"), TRANSIENT_ATTEMPTS));
    }
}

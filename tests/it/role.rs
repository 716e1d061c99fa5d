//! `role [--create]` against the emulator's IAM (moto): the shared role is created once,
//! then found and checked; a wrong role is explained and left alone.
//!
//! IAM is global per account in moto and every test shares account `123456789012`, so each
//! test names its own role.

use std::process::Command;

use serde_json::{Value, json};

use crate::common::emulator::{TestAccount, emulator, repo_root};
use crate::common::{Run, Workspace, hint_after, paste};

const ACCOUNT_ID: &str = "123456789012";

/// A manifest for `account`'s region that names `role`.
fn manifest(ws: &Workspace, account: &TestAccount, role: &str, scoped_trust: bool) -> std::path::PathBuf {
    ws.write(
        "users.yaml",
        &format!(
            "version: 1\npool:\n  id: {}_RoleTest1\nimport:\n  role: {role}\n  scoped_trust: {scoped_trust}\nusers: []\n",
            account.region
        ),
    )
}

fn role_cmd(account: &TestAccount, ws: &Workspace, args: &[&str]) -> Run {
    account.cognito_sync().current_dir(ws.path()).arg("role").args(args).output().expect("run cognito-sync").into()
}

/// A unique role name for this test run.
fn role_name(account: &TestAccount) -> String {
    format!("cs-{}", account.access_key.to_lowercase())
}

/// Runs Python with a boto3 IAM client `iam` bound to the emulator under a separate access
/// key (so the test's own request counts stay the binary's); returns what it prints as JSON.
fn iam(code: &str) -> Value {
    let emulator = emulator();
    let prelude = format!(
        "import boto3, json\niam = boto3.client('iam', endpoint_url='{}', region_name='us-east-1', \
         aws_access_key_id='AKIAROLETESTSETUP', aws_secret_access_key='x')\n",
        emulator.endpoint
    );
    let out = Command::new(emulator.python())
        .current_dir(repo_root())
        .arg("-c")
        .arg(prelude + code)
        .output()
        .expect("run python");
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    if text.trim().is_empty() { Value::Null } else { serde_json::from_str(&text).expect("python printed JSON") }
}

/// Creates a role directly in IAM, with `trust` and an inline policy `policy` when given.
fn create_role(name: &str, trust: &Value, policy: Option<&Value>) {
    let mut code = format!("iam.create_role(RoleName='{name}', AssumeRolePolicyDocument=json.dumps({trust}))\n");
    if let Some(policy) = policy {
        code += &format!(
            "iam.put_role_policy(RoleName='{name}', PolicyName='hand-made', PolicyDocument=json.dumps({policy}))\n"
        );
    }
    iam(&code);
}

/// The role's trust policy and inline policies, as IAM holds them now.
fn role_documents(name: &str) -> Value {
    iam(&format!(
        "from urllib.parse import unquote\n\
         def doc(d):\n    return d if isinstance(d, dict) else json.loads(unquote(d))\n\
         role = iam.get_role(RoleName='{name}')['Role']\n\
         names = iam.list_role_policies(RoleName='{name}')['PolicyNames']\n\
         inline = {{n: doc(iam.get_role_policy(RoleName='{name}', PolicyName=n)['PolicyDocument']) for n in names}}\n\
         print(json.dumps({{'arn': role['Arn'], 'trust': doc(role['AssumeRolePolicyDocument']), 'inline': inline, \
         'tags': role.get('Tags', [])}}))\n"
    ))
}

fn trust(service: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})
}

fn logs_policy(actions: &[&str], region: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions,
        "Resource": format!("arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:/aws/cognito/*")}]})
}

const ALL_ACTIONS: [&str; 4] =
    ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"];

fn count(account: &TestAccount, operation: &str) -> u64 {
    emulator().counts(account).get(operation).copied().unwrap_or(0)
}

#[test]
fn the_role_is_created_once_then_found_and_verified() {
    let account = emulator().account("rolecreate");
    let name = role_name(&account);
    let ws = Workspace::new();
    manifest(&ws, &account, &name, false);

    let missing = role_cmd(&account, &ws, &[]);
    assert_eq!(missing.code, 1, "{}", missing.stderr);
    assert_eq!(missing.stdout, "");
    assert!(missing.stderr.contains(&format!("role `{name}` does not exist")), "{}", missing.stderr);
    assert!(missing.stderr.contains("create it with `cognito-sync role --create users.yaml`"), "{}", missing.stderr);
    assert_eq!(count(&account, "CreateRole"), 0, "without --create nothing is created");

    let arn = format!("arn:aws:iam::{ACCOUNT_ID}:role/{name}");
    let created = role_cmd(&account, &ws, &["--create"]);
    assert_eq!(created.code, 0, "{}", created.stderr);
    assert_eq!(
        created.stdout,
        format!("created: role `{name}` is ready for Cognito imports in `{}`\n  arn: {arn}\n", account.region)
    );

    for args in [&["--create"][..], &[]] {
        let again = role_cmd(&account, &ws, args);
        assert_eq!(again.code, 0, "{}", again.stderr);
        assert_eq!(
            again.stdout,
            format!("ok: role `{name}` is ready for Cognito imports in `{}`\n  arn: {arn}\n", account.region)
        );
    }
    assert_eq!(count(&account, "CreateRole"), 1, "one role, created once");
    assert_eq!(count(&account, "PutRolePolicy"), 1);
    assert_eq!(count(&account, "UpdateAssumeRolePolicy"), 0);

    let documents = role_documents(&name);
    assert_eq!(documents["arn"], json!(arn));
    assert_eq!(documents["trust"], trust("cognito-idp.amazonaws.com"));
    assert_eq!(documents["inline"], json!({"cognito-sync-import-logs": logs_policy(&ALL_ACTIONS, account.region)}));
    assert_eq!(documents["tags"], json!([{"Key": "managed-by", "Value": "cognito-sync"}]));
}

#[test]
fn scoped_trust_adds_the_source_account_condition() {
    let account = emulator().account("rolescoped");
    let name = role_name(&account);
    let ws = Workspace::new();
    manifest(&ws, &account, &name, true);

    let created = role_cmd(&account, &ws, &["--create"]);
    assert_eq!(created.code, 0, "{}", created.stderr);
    let documents = role_documents(&name);
    assert_eq!(
        documents["trust"]["Statement"][0]["Condition"],
        json!({"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}})
    );
    let shown = role_cmd(&account, &ws, &[]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert_eq!(count(&account, "CreateRole"), 1);
}

#[test]
fn an_existing_unscoped_role_is_reported_when_scoped_trust_is_asked() {
    let account = emulator().account("rolenotscoped");
    let name = role_name(&account);
    let ws = Workspace::new();
    create_role(&name, &trust("cognito-idp.amazonaws.com"), Some(&logs_policy(&ALL_ACTIONS, account.region)));
    manifest(&ws, &account, &name, true);
    let run = role_cmd(&account, &ws, &["--create"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("`import.scoped_trust` is set, but the trust policy has no `aws:SourceAccount` condition"),
        "{}",
        run.stderr
    );
    assert_eq!(count(&account, "UpdateAssumeRolePolicy"), 0, "never rewritten");
}

#[test]
fn a_wrong_trust_policy_is_reported_and_left_alone() {
    let account = emulator().account("rolewrongtrust");
    let name = role_name(&account);
    let ws = Workspace::new();
    create_role(&name, &trust("lambda.amazonaws.com"), Some(&logs_policy(&ALL_ACTIONS, account.region)));
    let before = role_documents(&name);
    manifest(&ws, &account, &name, false);

    for args in [&[][..], &["--create"]] {
        let run = role_cmd(&account, &ws, args);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert_eq!(run.stdout, "");
        assert!(
            run.stderr
                .contains(&format!("role `arn:aws:iam::{ACCOUNT_ID}:role/{name}` cannot be used by Cognito imports")),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("- the trust policy does not name the principal `cognito-idp.amazonaws.com`"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("never rewrites or deletes"), "{}", run.stderr);
    }
    assert_eq!(role_documents(&name), before, "the role is not modified");
    for write in ["CreateRole", "PutRolePolicy", "UpdateAssumeRolePolicy", "DeleteRole", "DeleteRolePolicy"] {
        assert_eq!(count(&account, write), 0, "{write}");
    }
}

#[test]
fn missing_permissions_are_reported_precisely() {
    let account = emulator().account("rolemissingperm");
    let name = role_name(&account);
    let ws = Workspace::new();
    let other_region = if account.region == "us-east-1" { "us-west-2" } else { "us-east-1" };
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream"],
         "Resource": format!("arn:aws:logs:{}:{ACCOUNT_ID}:log-group:/aws/cognito/*", account.region)},
        {"Effect": "Allow", "Action": "logs:DescribeLogStreams",
         "Resource": format!("arn:aws:logs:{other_region}:{ACCOUNT_ID}:log-group:/aws/cognito/*")}]});
    create_role(&name, &trust("cognito-idp.amazonaws.com"), Some(&policy));
    manifest(&ws, &account, &name, false);

    let run = role_cmd(&account, &ws, &["--create"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let needed = format!("arn:aws:logs:{}:{ACCOUNT_ID}:log-group:/aws/cognito/*", account.region);
    for finding in [
        format!(
            "- `logs:DescribeLogStreams` is allowed on `arn:aws:logs:{other_region}:{ACCOUNT_ID}:log-group:/aws/cognito/*`, \
             which does not cover `{needed}`"
        ),
        "- no statement allows `logs:PutLogEvents`".to_owned(),
    ] {
        assert!(run.stderr.contains(&finding), "missing {finding:?} in:\n{}", run.stderr);
    }
    assert!(!run.stderr.contains("logs:CreateLogGroup`"), "{}", run.stderr);
    assert_eq!(count(&account, "PutRolePolicy"), 0, "never rewritten");
}

#[test]
fn attached_managed_policies_count() {
    let account = emulator().account("roleattached");
    let name = role_name(&account);
    let ws = Workspace::new();
    create_role(&name, &trust("cognito-idp.amazonaws.com"), None);
    let policy =
        json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "logs:*", "Resource": "*"}});
    iam(&format!(
        "arn = iam.create_policy(PolicyName='{name}-logs', PolicyDocument=json.dumps({policy}))['Policy']['Arn']\n\
         iam.attach_role_policy(RoleName='{name}', PolicyArn=arn)\n"
    ));
    manifest(&ws, &account, &name, false);
    let run = role_cmd(&account, &ws, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(count(&account, "GetPolicyVersion"), 1);
}

#[test]
fn an_invalid_manifest_sends_nothing() {
    let account = emulator().account("roleinvalid");
    let ws = Workspace::new();
    ws.write("users.yaml", "version: 1\npool:\n  id: nope\nusers: []\n");
    let run = role_cmd(&account, &ws, &["--create"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(emulator().counts(&account).is_empty(), "{:?}", emulator().counts(&account));
}

#[test]
fn an_interrupted_creation_is_completed_with_a_warning() {
    let account = emulator().account("roleinterrupted");
    let name = role_name(&account);
    let ws = Workspace::new();
    // What a run killed between CreateRole and PutRolePolicy leaves behind.
    iam(&format!(
        "iam.create_role(RoleName='{name}', AssumeRolePolicyDocument=json.dumps({}), \
         Tags=[{{'Key': 'managed-by', 'Value': 'cognito-sync'}}])\n",
        trust("cognito-idp.amazonaws.com")
    ));
    manifest(&ws, &account, &name, false);

    let shown = role_cmd(&account, &ws, &[]);
    assert_eq!(shown.code, 1, "without --create nothing is written: {}", shown.stderr);
    assert!(shown.stderr.contains("no statement allows `logs:PutLogEvents`"), "{}", shown.stderr);

    let run = role_cmd(&account, &ws, &["--create"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("an earlier creation was interrupted"), "{}", run.stderr);
    assert_eq!(
        role_documents(&name)["inline"],
        json!({"cognito-sync-import-logs": logs_policy(&ALL_ACTIONS, account.region)})
    );
    assert_eq!(count(&account, "CreateRole"), 0);
    assert_eq!(count(&account, "PutRolePolicy"), 1);
}

#[test]
fn a_role_without_policies_made_by_someone_else_is_not_touched() {
    let account = emulator().account("roleforeign");
    let name = role_name(&account);
    let ws = Workspace::new();
    create_role(&name, &trust("cognito-idp.amazonaws.com"), None);
    manifest(&ws, &account, &name, false);
    let run = role_cmd(&account, &ws, &["--create"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("no statement allows `logs:CreateLogGroup`"), "{}", run.stderr);
    assert_eq!(count(&account, "PutRolePolicy"), 0);
}

#[test]
fn concurrent_creations_make_one_usable_role() {
    let account = emulator().account("roleconcurrent");
    let name = role_name(&account);
    let ws = Workspace::new();
    manifest(&ws, &account, &name, true);
    let runs: Vec<Run> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..3).map(|_| scope.spawn(|| role_cmd(&account, &ws, &["--create"]))).collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    for run in &runs {
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    assert_eq!(runs.iter().filter(|r| r.stdout.starts_with("created:")).count(), 1, "one creator");
    let shown = role_cmd(&account, &ws, &[]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert_eq!(count(&account, "PutRolePolicy"), 1);
}

/// Runs one import job of one user through `role_arn` with boto3 and returns the job's final
/// status and message: the emulator assumes the role and checks its logs permissions.
fn import_one_user(account: &TestAccount, pool_id: &str, role_arn: &str) -> (String, String) {
    let result = iam(&format!(
        "import time, urllib.request\n\
         idp = boto3.client('cognito-idp', endpoint_url='{endpoint}', region_name='{region}', \
         aws_access_key_id='AKIAROLETESTSETUP', aws_secret_access_key='x')\n\
         header = idp.get_csv_header(UserPoolId='{pool_id}')['CSVHeader']\n\
         values = {{'cognito:username': 'imported', 'email': 'imported@example.com', 'email_verified': 'true', \
         'cognito:mfa_enabled': 'false'}}\n\
         body = (','.join(header) + '\\n' + ','.join(values.get(c, '') for c in header) + '\\n').encode()\n\
         job = idp.create_user_import_job(JobName='role-check', UserPoolId='{pool_id}', \
         CloudWatchLogsRoleArn='{role_arn}')['UserImportJob']\n\
         req = urllib.request.Request(job['PreSignedUrl'], data=body, method='PUT', \
         headers={{'x-amz-server-side-encryption': 'aws:kms'}})\n\
         urllib.request.urlopen(req).read()\n\
         idp.start_user_import_job(UserPoolId='{pool_id}', JobId=job['JobId'])\n\
         for _ in range(300):\n    \
             job = idp.describe_user_import_job(UserPoolId='{pool_id}', JobId=job['JobId'])['UserImportJob']\n    \
             if job['Status'] in ('Succeeded', 'Failed', 'Stopped', 'Expired'):\n        break\n    \
             time.sleep(0.1)\n\
         print(json.dumps([job['Status'], job.get('CompletionMessage', '')]))\n",
        endpoint = emulator().endpoint,
        region = account.region,
    ));
    (result[0].as_str().unwrap().to_owned(), result[1].as_str().unwrap().to_owned())
}

#[test]
fn the_created_role_is_accepted_by_an_import_job() {
    for scoped in [false, true] {
        let account = emulator().account(if scoped { "rolejobscoped" } else { "rolejob" });
        let name = role_name(&account);
        let ws = Workspace::new();
        manifest(&ws, &account, &name, scoped);
        let created = role_cmd(&account, &ws, &["--create"]);
        assert_eq!(created.code, 0, "{}", created.stderr);
        let pool_id = emulator().seed_pool(&account, &name, 0, &[]);
        let arn = format!("arn:aws:iam::{ACCOUNT_ID}:role/{name}");
        let (status, message) = import_one_user(&account, &pool_id, &arn);
        assert_eq!(status, "Succeeded", "scoped_trust {scoped}: {message}");
    }
    // And what `role` reports as missing, the import job misses too.
    let account = emulator().account("rolejobmissing");
    let name = role_name(&account);
    let ws = Workspace::new();
    create_role(&name, &trust("cognito-idp.amazonaws.com"), Some(&logs_policy(&ALL_ACTIONS[..3], account.region)));
    manifest(&ws, &account, &name, false);
    let shown = role_cmd(&account, &ws, &[]);
    assert!(shown.stderr.contains("no statement allows `logs:PutLogEvents`"), "{}", shown.stderr);
    let pool_id = emulator().seed_pool(&account, &name, 0, &[]);
    let (status, message) = import_one_user(&account, &pool_id, &format!("arn:aws:iam::{ACCOUNT_ID}:role/{name}"));
    assert_eq!(status, "Failed");
    assert!(message.contains("logs:PutLogEvents"), "{message}");
}

// See: #15. The hint names the manifest that was read, so that it runs when pasted.
#[test]
fn the_missing_role_hint_runs_when_pasted() {
    let account = emulator().account("rolehint");
    let name = role_name(&account);
    let ws = Workspace::new();
    let written = manifest(&ws, &account, &name, false);
    std::fs::rename(&written, ws.path().join("team users.yaml")).expect("rename");

    let missing = role_cmd(&account, &ws, &["team users.yaml"]);
    assert_eq!(missing.code, 1, "{}", missing.stderr);
    let hint = hint_after(&missing.stderr, "create it with ");
    assert_eq!(hint, "cognito-sync role --create 'team users.yaml'");
    let pasted = paste(ws.path(), &hint, account.env());
    assert_eq!(pasted.code, 0, "{}", pasted.stderr);
    assert!(pasted.stdout.starts_with(&format!("created: role `{name}`")), "{}", pasted.stdout);
}

//! Races against the real binary: two `idcbootstrap-server` processes on one
//! PostgreSQL database (and one process on SQLite), 50 requests released at once.
//!
//! * 50 rotations of one tenant: exactly one wins (200), 49 get 409 `conflict`,
//!   and the winner's pending ID is the one stored.
//! * 50 first templates of a new tenant: every answer names the same single
//!   external ID, the one stored.
//!
//! Rotation and issuing are compare-and-swap in the database, not in a process:
//! with two processes, a lock in memory would let two of them win.

use std::sync::{Arc, Barrier};

use serde_json::{Value, json};

use crate::server::{deployment, s, sweep};
use crate::util::server::{Api, Endpoints, uuid};

const N: usize = 50;

/// Fires `N` copies of one request at once, alternating between `apis`, and
/// returns every `(status, body)`.
fn burst(apis: &[Api], method: &'static str, path: &'static str, body: Value) -> Vec<(u16, Value)> {
    let barrier = Arc::new(Barrier::new(N));
    let threads: Vec<_> = (0..N)
        .map(|i| {
            let (api, barrier, body) = (apis[i % apis.len()].clone(), barrier.clone(), body.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let r = api.call(method, path, Some(&body));
                let v = if r.body.trim().is_empty() { Value::Null } else { r.json() };
                (r.status, v)
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().expect("request thread")).collect()
}

/// One tenant's clients, one per server process.
fn setup(
    test: &str,
    postgres: bool,
    processes: usize,
) -> Option<(crate::util::server::Deployment, Vec<crate::util::server::Server>, Vec<Api>)> {
    let mut dep = deployment(test, postgres, Endpoints::unreachable())?;
    let servers: Vec<_> = (0..processes).map(|_| dep.start()).collect();
    let tenant = uuid();
    let token = dep.token(&tenant);
    let apis = servers.iter().map(|s| s.api(&token, &tenant)).collect();
    Some((dep, servers, apis))
}

/// The secrets sweep over everything the race's processes wrote and every reply
/// (see `server::sweep`): the tenant's token, `ids` only where they are returned.
fn sweep_race(test: &str, dep: &crate::util::server::Deployment, apis: &[Api], ids: &[&str]) {
    let token = apis[0].token.clone().expect("the tenant's token");
    sweep(test, dep, &[&token], ids, None).check();
}

fn rotate_race(test: &str, postgres: bool, processes: usize) {
    let Some((dep, _servers, apis)) = setup(test, postgres, processes) else { return };
    let input = json!({
        "aws_account_id": "123456789012",
        "sso_instance_arn": "arn:aws:sso:::instance/ssoins-72230a4f6e7c1d52",
        "region": "eu-west-1",
    });
    apis[0].post("bootstrap-template", &input).expect(200);
    let results = burst(&apis, "POST", "external-id/rotate", json!({}));
    let won: Vec<&Value> = results.iter().filter(|(st, _)| *st == 200).map(|(_, v)| v).collect();
    let lost = results.iter().filter(|(st, v)| *st == 409 && v["code"] == "conflict").count();
    assert_eq!((won.len(), lost), (1, N - 1), "exactly one rotation wins: {results:?}");
    // Both processes agree on the winner's pending ID.
    for api in &apis {
        let e = api.get("external-id").expect(200);
        assert_eq!(e["external_id_pending"], won[0]["external_id_pending"], "{e}");
    }
    sweep_race(test, &dep, &apis, &[s(won[0], "external_id"), s(won[0], "external_id_pending")]);
}

fn first_template_race(test: &str, postgres: bool, processes: usize) {
    let Some((dep, _servers, apis)) = setup(test, postgres, processes) else { return };
    let input = json!({
        "aws_account_id": "123456789012",
        "sso_instance_arn": "arn:aws:sso:::instance/ssoins-72230a4f6e7c1d52",
        "region": "eu-west-1",
    });
    let results = burst(&apis, "POST", "bootstrap-template", input);
    let mut seen: Vec<Value> = Vec::new();
    for (status, v) in &results {
        assert_eq!(*status, 200, "{v}");
        if !seen.contains(&v["external_ids"]) {
            seen.push(v["external_ids"].clone());
        }
    }
    assert_eq!(seen.len(), 1, "concurrent first templates issued different IDs: {seen:?}");
    assert_eq!(seen[0].as_array().map(Vec::len), Some(1), "{seen:?}");
    for api in &apis {
        let e = api.get("external-id").expect(200);
        assert_eq!(s(&e, "external_id"), seen[0][0].as_str().unwrap());
    }
    sweep_race(test, &dep, &apis, &[seen[0][0].as_str().unwrap()]);
}

#[test]
fn fifty_rotations_on_two_processes_one_postgres_exactly_one_wins() {
    rotate_race("server_rotate_race_postgres", true, 2);
}

#[test]
fn fifty_first_templates_on_two_processes_one_postgres_issue_one_id() {
    first_template_race("server_issue_race_postgres", true, 2);
}

#[test]
fn fifty_rotations_on_sqlite_exactly_one_wins() {
    rotate_race("server_rotate_race_sqlite", false, 1);
}

#[test]
fn fifty_first_templates_on_sqlite_issue_one_id() {
    first_template_race("server_issue_race_sqlite", false, 1);
}

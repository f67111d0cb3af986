//! The Prometheus metrics of rule S8: requests, latency histograms, decisions and the store
//! revision, in the Prometheus text format at `/metrics`.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The labels of a request: its route (the matched pattern, so the set stays small), its
/// method and its status.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

/// The label of a latency: the route.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

/// The label of a decision: `allowed` or `denied`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    decision: String,
}

type Histograms = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 50 us to about 6.5 s
    Histogram::new(exponential_buckets(0.000_05, 2.0, 18))
}

/// The server's metrics.
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Histograms,
    decisions: Family<DecisionLabels, Counter>,
    revision: Gauge,
    rejected_connections: Counter,
    follower_revision: Gauge,
    follower_failures: Gauge,
    follower_rebuilds: Gauge,
    notifications: Counter,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("acl");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: Histograms = Family::new_with_constructor(latency_histogram);
        let decisions = Family::<DecisionLabels, Counter>::default();
        let revision = Gauge::default();
        let rejected_connections = Counter::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request, by route",
            latency.clone(),
        );
        registry.register(
            "decisions",
            "Check decisions answered, allowed or denied",
            decisions.clone(),
        );
        registry.register(
            "store_revision",
            "The latest store revision the server has seen",
            revision.clone(),
        );
        registry.register(
            "rejected_connections",
            "Connections refused because the connection cap was reached",
            rejected_connections.clone(),
        );
        let follower_revision = Gauge::default();
        let follower_failures = Gauge::default();
        let follower_rebuilds = Gauge::default();
        registry.register(
            "follower_revision",
            "The store revision the follower index (which answers decisions) has applied",
            follower_revision.clone(),
        );
        registry.register(
            "follower_failures",
            "Catch-ups of the follower index that failed (it kept its last revision)",
            follower_failures.clone(),
        );
        registry.register(
            "follower_rebuilds",
            "Catch-ups of the follower index that rebuilt it from every row",
            follower_rebuilds.clone(),
        );
        let notifications = Counter::default();
        registry.register(
            "commit_notifications",
            "Commits announced by the database (PostgreSQL's NOTIFY), each a wake-up of the \
             follower index",
            notifications.clone(),
        );
        Metrics {
            notifications,
            follower_revision,
            follower_failures,
            follower_rebuilds,
            registry,
            requests,
            latency,
            decisions,
            revision,
            rejected_connections,
        }
    }

    /// Counts one answered request.
    pub fn request(&self, route: &str, method: &str, status: u16, took: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    /// Counts decisions: `allowed` of them allowed, `denied` denied.
    pub fn decisions(&self, allowed: u64, denied: u64) {
        for (word, count) in [("allowed", allowed), ("denied", denied)] {
            if count > 0 {
                self.decisions
                    .get_or_create(&DecisionLabels {
                        decision: word.to_owned(),
                    })
                    .inc_by(count);
            }
        }
    }

    /// Records the store's revision.
    pub fn revision(&self, revision: u64) {
        self.revision
            .set(i64::try_from(revision).unwrap_or(i64::MAX));
    }

    /// Records what the follower index has done.
    pub fn follower(&self, status: &acl_memory::FollowerStatus) {
        let gauge = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.follower_revision.set(gauge(status.applied.0));
        self.follower_failures.set(gauge(status.failures));
        self.follower_rebuilds.set(gauge(status.rebuilds));
    }

    /// Counts a wake-up by a commit notification.
    pub fn notification(&self) {
        self.notifications.inc();
    }

    /// Counts a connection refused over the cap.
    pub fn rejected_connection(&self) {
        self.rejected_connections.inc();
    }

    /// The metrics in the Prometheus text format.
    pub fn text(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}

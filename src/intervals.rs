//! The interval rules: from a session's events to connected, publishing, subscribed and
//! replicating intervals, and the order in which events apply.
//!
//! Kept in Rust rather than SQL because same-instant events need a small state machine. Each
//! participant's events are taken in time order; the events of one instant apply in three steps:
//! 1. stops whose interval is open close it (explicit `*_STOPPED` first, then `LEFT`, which closes
//!    the connection and every publishing and subscribed interval);
//! 2. starts open their interval unless it is open already (then they are ignored); errors and
//!    token exchanges apply here too and change nothing;
//! 3. the remaining stops close what step 2 opened (a zero-length interval) or, finding nothing
//!    open, are ignored as orphans. Unknown event names apply last and change nothing.
//!
//! What is still open at the end closes at the session end (replications stay open).

use std::collections::BTreeMap;

/// One stored event, as the rules need it.
#[derive(Debug, Clone)]
pub struct EventRow {
    /// Names the event to the caller in [`Applied`]: the store passes its position in the list.
    pub event_key: i64,
    pub participant_key: i64,
    pub name: String,
    pub time_us: i64,
    pub remote_participant_id: Option<String>,
    pub destination_stage_arn: Option<String>,
    pub destination_session_id: Option<String>,
    /// A token exchange's tokens as the chain compares them (see `participant_events.sql`).
    pub previous_token: Option<String>,
    pub new_token: Option<String>,
    /// Content hash: the last tie-break, so the order never depends on import order.
    pub identity: [u8; 8],
    /// The event says it comes from a replica.
    pub replica: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Connected,
    Publishing,
    Subscribed,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Connected => "connected",
            Kind::Publishing => "publishing",
            Kind::Subscribed => "subscribed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interval {
    pub participant_key: i64,
    pub kind: Kind,
    pub remote_participant_id: Option<String>,
    pub started_at_us: i64,
    pub stopped_at_us: i64,
    /// False when the interval was still open and closed at the session end.
    pub closed_by_stop: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replication {
    pub participant_key: i64,
    pub destination_stage_arn: Option<String>,
    pub destination_session_id: Option<String>,
    pub started_at_us: i64,
    pub stopped_at_us: Option<i64>,
}

/// Where one event falls in its participant's applied order, and what applying it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub event_key: i64,
    pub seq: i64,
    pub step: i64,
    pub effect: Effect,
}

/// What an event did: `opens publishing`, `closes connected, publishing`, `ignored start`,
/// `orphan stop`, …, and by how much it changed the participant's open connections and
/// publishing intervals (for running counts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effect {
    pub text: String,
    pub connected: i64,
    pub publishing: i64,
}

impl Effect {
    fn note(text: &str) -> Effect {
        Effect {
            text: text.to_string(),
            connected: 0,
            publishing: 0,
        }
    }
}

#[derive(Debug, Default)]
pub struct Derived {
    pub applied: Vec<Applied>,
    pub intervals: Vec<Interval>,
    pub replications: Vec<Replication>,
}

/// The listing rank of a name within one step of an instant.
pub fn rank(name: &str) -> u8 {
    match name {
        "JOIN_ERROR" => 0,
        "JOINED" => 1,
        "TOKEN_EXCHANGED" => 2,
        "PUBLISH_ERROR" => 3,
        "PUBLISH_STARTED" => 4,
        "SUBSCRIBE_ERROR" => 5,
        "SUBSCRIBE_STARTED" => 6,
        "REPLICATION_STARTED" => 7,
        "REPLICATION_STOPPED" => 8,
        "SUBSCRIBE_STOPPED" => 9,
        "PUBLISH_STOPPED" => 10,
        "LEFT" => 11,
        _ => 12,
    }
}

/// What an event of this name does when nothing gets in its way. The store keeps only effects
/// that differ (NULL otherwise); the views spell the rest out from the table `usual_effects`,
/// which holds this list (a test checks that the two agree).
pub fn usual_effect(name: &str) -> &'static str {
    match name {
        "JOINED" => "opens connected",
        "PUBLISH_STARTED" => "opens publishing",
        "SUBSCRIBE_STARTED" => "opens subscribed",
        "REPLICATION_STARTED" => "opens replicating",
        "LEFT" => "closes connected",
        "PUBLISH_STOPPED" => "closes publishing",
        "SUBSCRIBE_STOPPED" => "closes subscribed",
        "REPLICATION_STOPPED" => "closes replicating",
        "JOIN_ERROR" | "PUBLISH_ERROR" | "SUBSCRIBE_ERROR" => "error",
        "TOKEN_EXCHANGED" => "token exchanged",
        _ => "unknown event",
    }
}

/// How an event of this name applies when nothing gets in its way, besides its
/// [`usual_effect`]: its step, and by how much it changes the open connections and publishing
/// intervals. The store writes this at insert, with the event's arrival as its `seq`: for events
/// that arrive in order, deriving then finds most rows right and rewrites only the others.
pub fn usual_application(name: &str) -> (i64, i64, i64) {
    match name {
        "JOINED" => (2, 1, 0),
        "PUBLISH_STARTED" => (2, 0, 1),
        "LEFT" => (1, -1, 0),
        "PUBLISH_STOPPED" => (1, 0, -1),
        _ if is_stop(name) => (1, 0, 0),
        _ if rank(name) == 12 => (3, 0, 0),
        _ => (2, 0, 0),
    }
}

fn is_stop(name: &str) -> bool {
    matches!(
        name,
        "LEFT" | "PUBLISH_STOPPED" | "SUBSCRIBE_STOPPED" | "REPLICATION_STOPPED"
    )
}

/// The most of `spans` (each `[start, stop)`) that share one instant: a zero-length span never
/// counts, and a span that stops at the instant another starts does not overlap it.
pub fn peak(spans: impl IntoIterator<Item = (i64, i64)>) -> i64 {
    // Starts and stops apart, 8 bytes each: a session of millions of events keeps hundreds of
    // thousands of intervals, and its peak must not cost the import's memory budget.
    let (mut starts, mut stops): (Vec<i64>, Vec<i64>) = spans
        .into_iter()
        .filter(|(start, stop)| stop > start)
        .unzip();
    starts.sort_unstable();
    stops.sort_unstable();
    let mut stopped = 0;
    let mut most = 0;
    for (started, &start) in (1..).zip(&starts) {
        // What stops at the instant of a start has already closed.
        stopped += stops[stopped..].partition_point(|&stop| stop <= start);
        most = most.max(started - stopped as i64);
    }
    most
}

/// Derives the intervals of the participants whose events are given (all of each one's events,
/// in any order). `session_end_us` is the later of the session's last event and its recorded end.
pub fn derive(mut events: Vec<EventRow>, session_end_us: i64) -> Derived {
    events.sort_by(|a, b| {
        (a.participant_key, a.time_us, rank(&a.name))
            .cmp(&(b.participant_key, b.time_us, rank(&b.name)))
            .then_with(|| a.remote_participant_id.cmp(&b.remote_participant_id))
            .then_with(|| a.destination_stage_arn.cmp(&b.destination_stage_arn))
            .then_with(|| a.destination_session_id.cmp(&b.destination_session_id))
            .then_with(|| a.identity.cmp(&b.identity))
    });
    let mut derived = Derived::default();
    for participant in events.chunk_by(|a, b| a.participant_key == b.participant_key) {
        let mut state = Participant::new(participant[0].participant_key);
        for instant in participant.chunk_by(|a, b| a.time_us == b.time_us) {
            state.apply_instant(instant, &mut derived);
        }
        state.close_at_session_end(session_end_us, &mut derived);
    }
    derived
}

/// One participant's open intervals (start times) while its events are applied.
struct Participant {
    key: i64,
    seq: i64,
    connected: Option<i64>,
    publishing: Option<i64>,
    subscribed: BTreeMap<Option<String>, i64>,
    replicating: BTreeMap<(Option<String>, Option<String>), i64>,
    last_new_token: Option<String>,
}

impl Participant {
    fn new(key: i64) -> Self {
        Participant {
            key,
            seq: 0,
            connected: None,
            publishing: None,
            subscribed: BTreeMap::new(),
            replicating: BTreeMap::new(),
            last_new_token: None,
        }
    }

    fn apply_instant(&mut self, instant: &[EventRow], out: &mut Derived) {
        let mut late_stops = Vec::new();
        // Step 1: `instant` is sorted by rank, so explicit stops come before LEFT.
        for event in instant.iter().filter(|e| is_stop(&e.name)) {
            match self.close(event, out) {
                Some(effect) => self.record(event, 1, effect, out),
                None => late_stops.push(event),
            }
        }
        // Step 2.
        let others: Vec<&EventRow> = instant
            .iter()
            .filter(|e| !is_stop(&e.name) && rank(&e.name) < 12)
            .collect();
        for event in self.chain_token_exchanges(others) {
            let effect = self.open(event);
            self.record(event, 2, effect, out);
        }
        // Step 3: closing what step 2 opened, or ignored as orphans; unknown names last.
        for event in late_stops {
            let effect = self
                .close(event, out)
                .unwrap_or_else(|| Effect::note("orphan stop"));
            self.record(event, 3, effect, out);
        }
        for event in instant.iter().filter(|e| rank(&e.name) == 12) {
            self.record(event, 3, Effect::note("unknown event"), out);
        }
    }

    /// Token exchanges of one instant go in chain order: first the one whose previous token is
    /// the last new token; failing that, one that continues no other exchange of the instant (a
    /// chain's head). Everything else keeps its rank order.
    fn chain_token_exchanges<'e>(&self, mut pending: Vec<&'e EventRow>) -> Vec<&'e EventRow> {
        let mut ordered = Vec::with_capacity(pending.len());
        let mut last_new = self.last_new_token.clone();
        while !pending.is_empty() {
            // Exchanges follow JOIN_ERROR and JOINED in rank, so they are reordered only once
            // those have gone.
            let exchanges = pending
                .iter()
                .take_while(|e| e.name == "TOKEN_EXCHANGED")
                .count();
            let run = &pending[..exchanges];
            let continues_last = run
                .iter()
                .position(|e| last_new.is_some() && e.previous_token == last_new);
            let chain_head = || {
                run.iter().position(|e| {
                    !run.iter().any(|other| {
                        !std::ptr::eq(*other, *e)
                            && other.new_token.is_some()
                            && other.new_token == e.previous_token
                    })
                })
            };
            let next = continues_last.or_else(chain_head).unwrap_or(0);
            let event = pending.remove(next);
            if event.name == "TOKEN_EXCHANGED" {
                last_new.clone_from(&event.new_token);
            }
            ordered.push(event);
        }
        ordered
    }

    fn record(&mut self, event: &EventRow, step: i64, effect: Effect, out: &mut Derived) {
        self.seq += 1;
        if event.name == "TOKEN_EXCHANGED" {
            self.last_new_token.clone_from(&event.new_token);
        }
        out.applied.push(Applied {
            event_key: event.event_key,
            seq: self.seq,
            step,
            effect,
        });
    }

    /// Applies a start (or an event that changes nothing) and says what it did.
    fn open(&mut self, event: &EventRow) -> Effect {
        let t = event.time_us;
        let opened = match event.name.as_str() {
            "JOINED" => opens(&mut self.connected, t),
            "PUBLISH_STARTED" => opens(&mut self.publishing, t),
            "SUBSCRIBE_STARTED" => {
                let remote = event.remote_participant_id.clone();
                let absent = !self.subscribed.contains_key(&remote);
                self.subscribed.entry(remote).or_insert(t);
                absent
            }
            "REPLICATION_STARTED" => {
                let target = replication_target(event);
                let absent = !self.replicating.contains_key(&target);
                self.replicating.entry(target).or_insert(t);
                absent
            }
            "TOKEN_EXCHANGED" => return Effect::note("token exchanged"),
            _ => return Effect::note("error"),
        };
        if !opened {
            return Effect::note("ignored start");
        }
        let (what, connected, publishing) = match event.name.as_str() {
            "JOINED" => ("connected", 1, 0),
            "PUBLISH_STARTED" => ("publishing", 0, 1),
            "SUBSCRIBE_STARTED" => ("subscribed", 0, 0),
            _ => ("replicating", 0, 0),
        };
        Effect {
            text: format!("opens {what}"),
            connected,
            publishing,
        }
    }

    /// Closes what the stop event closes and says what; `None` when nothing was open.
    fn close(&mut self, event: &EventRow, out: &mut Derived) -> Option<Effect> {
        let t = event.time_us;
        let closed = match event.name.as_str() {
            "PUBLISH_STOPPED" => self.close_publishing(t, true, out),
            "SUBSCRIBE_STOPPED" => {
                let remote = &event.remote_participant_id;
                match self.subscribed.remove(remote) {
                    Some(start) => {
                        out.intervals.push(self.interval(
                            Kind::Subscribed,
                            remote.clone(),
                            start,
                            t,
                            true,
                        ));
                        Closed {
                            subscribed: 1,
                            ..Closed::default()
                        }
                    }
                    None => Closed::default(),
                }
            }
            "REPLICATION_STOPPED" => {
                let target = replication_target(event);
                match self.replicating.remove(&target) {
                    Some(start) => {
                        out.replications.push(Replication {
                            participant_key: self.key,
                            destination_stage_arn: target.0,
                            destination_session_id: target.1,
                            started_at_us: start,
                            stopped_at_us: Some(t),
                        });
                        Closed {
                            replicating: true,
                            ..Closed::default()
                        }
                    }
                    None => Closed::default(),
                }
            }
            "LEFT" => self.close_connection(t, true, out),
            _ => Closed::default(),
        };
        closed.effect()
    }

    fn close_publishing(&mut self, t: i64, by_stop: bool, out: &mut Derived) -> Closed {
        match self.publishing.take() {
            Some(start) => {
                out.intervals
                    .push(self.interval(Kind::Publishing, None, start, t, by_stop));
                Closed {
                    publishing: true,
                    ..Closed::default()
                }
            }
            None => Closed::default(),
        }
    }

    /// LEFT, or the session end: the connection and every publishing and subscribed interval.
    fn close_connection(&mut self, t: i64, by_stop: bool, out: &mut Derived) -> Closed {
        let mut closed = self.close_publishing(t, by_stop, out);
        for (remote, start) in std::mem::take(&mut self.subscribed) {
            out.intervals
                .push(self.interval(Kind::Subscribed, remote, start, t, by_stop));
            closed.subscribed += 1;
        }
        if let Some(start) = self.connected.take() {
            out.intervals
                .push(self.interval(Kind::Connected, None, start, t, by_stop));
            closed.connected = true;
        }
        closed
    }

    fn close_at_session_end(mut self, end_us: i64, out: &mut Derived) {
        self.close_connection(end_us, false, out);
        for ((stage, session), start) in std::mem::take(&mut self.replicating) {
            out.replications.push(Replication {
                participant_key: self.key,
                destination_stage_arn: stage,
                destination_session_id: session,
                started_at_us: start,
                stopped_at_us: None,
            });
        }
    }

    fn interval(
        &self,
        kind: Kind,
        remote_participant_id: Option<String>,
        started_at_us: i64,
        stopped_at_us: i64,
        closed_by_stop: bool,
    ) -> Interval {
        Interval {
            participant_key: self.key,
            kind,
            remote_participant_id,
            started_at_us,
            stopped_at_us,
            closed_by_stop,
        }
    }
}

/// Opens an interval unless it is open; true when it opened.
fn opens(slot: &mut Option<i64>, t: i64) -> bool {
    let absent = slot.is_none();
    slot.get_or_insert(t);
    absent
}

/// What one stop closed.
#[derive(Debug, Default)]
struct Closed {
    connected: bool,
    publishing: bool,
    subscribed: usize,
    replicating: bool,
}

impl Closed {
    /// `closes connected, publishing, 2 subscribed`; `None` when nothing was closed.
    fn effect(&self) -> Option<Effect> {
        let mut parts = Vec::new();
        if self.connected {
            parts.push("connected".to_string());
        }
        if self.publishing {
            parts.push("publishing".to_string());
        }
        match self.subscribed {
            0 => {}
            1 => parts.push("subscribed".to_string()),
            n => parts.push(format!("{n} subscribed")),
        }
        if self.replicating {
            parts.push("replicating".to_string());
        }
        (!parts.is_empty()).then(|| Effect {
            text: format!("closes {}", parts.join(", ")),
            connected: -i64::from(self.connected),
            publishing: -i64::from(self.publishing),
        })
    }
}

fn replication_target(event: &EventRow) -> (Option<String>, Option<String>) {
    (
        event.destination_stage_arn.clone(),
        event.destination_session_id.clone(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_takes_spans_as_half_open_and_ignores_empty_ones() {
        assert_eq!(peak([]), 0);
        assert_eq!(peak([(5, 5)]), 0);
        // Back to back: never two at once.
        assert_eq!(peak([(0, 10), (10, 20), (20, 30)]), 1);
        // (0, 10) and (5, 15) share [5, 10); (5, 15) and (9, 12) and (0, 10) share [9, 10).
        assert_eq!(peak([(9, 12), (0, 10), (5, 15), (15, 15)]), 3);
        // A zero-length span inside another adds nothing.
        assert_eq!(peak([(0, 10), (4, 4)]), 1);
        // Two start together and stop as the third starts; later, four at once.
        let spans = [
            (0, 10),
            (0, 10),
            (10, 20),
            (30, 40),
            (31, 40),
            (32, 40),
            (39, 50),
        ];
        assert_eq!(peak(spans), 4);
    }

    #[test]
    fn peak_is_the_most_spans_open_at_any_start() {
        // splitmix64, so that the spans are the same every run.
        let mut state = 7_u64;
        let mut next = |below: u64| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ((z ^ (z >> 31)) % below) as i64
        };
        for _ in 0..200 {
            let n = next(30);
            let spans: Vec<(i64, i64)> = (0..n)
                .map(|_| {
                    let start = next(50);
                    (start, start + next(20))
                })
                .collect();
            let open_at = |t: i64| spans.iter().filter(|&&(a, b)| a <= t && t < b).count();
            let most = spans.iter().map(|&(a, _)| open_at(a)).max().unwrap_or(0);
            assert_eq!(peak(spans.clone()), most as i64, "{spans:?}");
        }
    }

    const S: i64 = 1_000_000;

    /// Events of participant 1 unless the name says `name@participant`.
    fn ev(key: i64, name: &str, t: i64) -> EventRow {
        let (name, participant) = match name.split_once('@') {
            Some((n, p)) => (n, p.parse().unwrap()),
            None => (name, 1),
        };
        EventRow {
            event_key: key,
            participant_key: participant,
            name: name.into(),
            time_us: t * S,
            remote_participant_id: None,
            destination_stage_arn: None,
            destination_session_id: None,
            previous_token: None,
            new_token: None,
            identity: key.to_be_bytes(),
            replica: false,
        }
    }

    fn sub(key: i64, name: &str, t: i64, remote: &str) -> EventRow {
        EventRow {
            remote_participant_id: Some(remote.into()),
            ..ev(key, name, t)
        }
    }

    /// (kind, remote, start s, stop s, closed by its stop)
    fn spans(d: &Derived) -> Vec<(&'static str, Option<String>, i64, i64, bool)> {
        let mut v: Vec<_> = d
            .intervals
            .iter()
            .map(|i| {
                (
                    i.kind.as_str(),
                    i.remote_participant_id.clone(),
                    i.started_at_us / S,
                    i.stopped_at_us / S,
                    i.closed_by_stop,
                )
            })
            .collect();
        v.sort();
        v
    }

    fn order(d: &Derived) -> Vec<(i64, i64)> {
        let mut v: Vec<_> = d.applied.iter().map(|a| (a.seq, a.event_key)).collect();
        v.sort();
        v
    }

    /// A session without surprises applies each event as its name says, in arrival order; one
    /// with them (LEFT while publishing, an orphan stop, an ignored start) differs just there.
    #[test]
    fn usual_application_is_what_events_without_surprises_do() {
        let applied = |events: Vec<EventRow>| {
            let names: Vec<String> = events.iter().map(|e| e.name.clone()).collect();
            let mut d = derive(events, 100 * S);
            d.applied.sort_by_key(|a| a.event_key);
            d.applied
                .iter()
                .map(|a| {
                    let name = &names[a.event_key as usize - 1];
                    let usual = (a.seq, usual_application(name), usual_effect(name));
                    let derived = (
                        a.event_key,
                        (a.step, a.effect.connected, a.effect.publishing),
                        a.effect.text.as_str(),
                    );
                    usual == derived
                })
                .collect::<Vec<_>>()
        };
        let calm = vec![
            ev(1, "JOINED", 1),
            ev(2, "TOKEN_EXCHANGED", 2),
            ev(3, "PUBLISH_STARTED", 3),
            sub(4, "SUBSCRIBE_STARTED", 4, "B"),
            ev(5, "SUBSCRIBE_ERROR", 5),
            sub(6, "SUBSCRIBE_STOPPED", 6, "B"),
            ev(7, "PUBLISH_ERROR", 7),
            ev(8, "PUBLISH_STOPPED", 8),
            ev(9, "REPLICATION_STARTED", 9),
            ev(10, "REPLICATION_STOPPED", 10),
            ev(11, "PARTICIPANT_MUTED", 11),
            ev(12, "LEFT", 12),
            ev(13, "JOIN_ERROR", 13),
        ];
        assert_eq!(applied(calm), [true; 13]);
        let surprising = vec![
            ev(1, "JOINED", 1),
            ev(2, "JOINED", 2),
            ev(3, "PUBLISH_STARTED", 3),
            ev(4, "LEFT", 4),
            ev(5, "PUBLISH_STOPPED", 5),
        ];
        assert_eq!(applied(surprising), [true, false, true, false, false]);
    }

    #[test]
    fn join_and_publish_at_one_instant_then_stop_and_leave_at_one_instant() {
        let d = derive(
            vec![
                ev(4, "LEFT", 20),
                ev(3, "PUBLISH_STOPPED", 20),
                ev(2, "PUBLISH_STARTED", 10),
                ev(1, "JOINED", 10),
            ],
            20 * S,
        );
        assert_eq!(
            spans(&d),
            [
                ("connected", None, 10, 20, true),
                ("publishing", None, 10, 20, true)
            ]
        );
        assert_eq!(order(&d), [(1, 1), (2, 2), (3, 3), (4, 4)]);
    }

    #[test]
    fn stop_and_restart_at_one_instant_is_a_republish() {
        let d = derive(
            vec![
                ev(1, "JOINED", 0),
                ev(2, "PUBLISH_STARTED", 1),
                ev(3, "PUBLISH_STARTED", 5),
                ev(4, "PUBLISH_STOPPED", 5),
                ev(5, "LEFT", 9),
            ],
            9 * S,
        );
        assert_eq!(
            spans(&d),
            [
                ("connected", None, 0, 9, true),
                ("publishing", None, 1, 5, true),
                ("publishing", None, 5, 9, true)
            ]
        );
        let steps: Vec<_> = d.applied.iter().map(|a| (a.event_key, a.step)).collect();
        assert!(steps.contains(&(4, 1)) && steps.contains(&(3, 2)));
    }

    #[test]
    fn the_same_pair_with_nothing_open_is_a_zero_length_publish() {
        let d = derive(
            vec![
                ev(1, "JOINED", 0),
                ev(2, "PUBLISH_STOPPED", 5),
                ev(3, "PUBLISH_STARTED", 5),
                ev(4, "LEFT", 9),
            ],
            9 * S,
        );
        assert_eq!(
            spans(&d),
            [
                ("connected", None, 0, 9, true),
                ("publishing", None, 5, 5, true)
            ]
        );
        // The stop is applied after the start it closes.
        assert_eq!(order(&d), [(1, 1), (2, 3), (3, 2), (4, 4)]);
    }

    #[test]
    fn rejoin_at_the_instant_of_left_is_two_connections() {
        let d = derive(
            vec![
                ev(1, "JOINED", 0),
                ev(2, "JOINED", 4),
                ev(3, "LEFT", 4),
                ev(4, "LEFT", 7),
            ],
            7 * S,
        );
        assert_eq!(
            spans(&d),
            [
                ("connected", None, 0, 4, true),
                ("connected", None, 4, 7, true)
            ]
        );
    }

    #[test]
    fn order_of_rows_never_matters() {
        let events = vec![
            ev(1, "JOINED", 0),
            ev(2, "PUBLISH_STARTED", 0),
            sub(3, "SUBSCRIBE_STARTED", 2, "x"),
            ev(4, "PUBLISH_STOPPED", 6),
            ev(5, "LEFT", 6),
        ];
        let forward = derive(events.clone(), 6 * S);
        let backward = derive(events.into_iter().rev().collect(), 6 * S);
        assert_eq!(spans(&forward), spans(&backward));
        assert_eq!(order(&forward), order(&backward));
    }

    #[test]
    fn duplicate_starts_are_ignored_and_orphan_stops_close_nothing() {
        let d = derive(
            vec![
                ev(1, "PUBLISH_STOPPED", 0),
                ev(2, "JOINED", 1),
                ev(3, "JOINED", 2),
                ev(4, "PUBLISH_STARTED", 3),
                ev(5, "PUBLISH_STARTED", 4),
                ev(6, "LEFT", 8),
                ev(7, "LEFT", 9),
            ],
            9 * S,
        );
        assert_eq!(
            spans(&d),
            [
                ("connected", None, 1, 8, true),
                ("publishing", None, 3, 8, true)
            ]
        );
    }

    #[test]
    fn left_closes_publishing_and_every_subscription() {
        let d = derive(
            vec![
                ev(1, "JOINED", 0),
                ev(2, "PUBLISH_STARTED", 1),
                sub(3, "SUBSCRIBE_STARTED", 2, "a"),
                sub(4, "SUBSCRIBE_STARTED", 3, "b"),
                sub(5, "SUBSCRIBE_STOPPED", 4, "a"),
                ev(6, "LEFT", 10),
            ],
            10 * S,
        );
        assert_eq!(
            spans(&d),
            [
                ("connected", None, 0, 10, true),
                ("publishing", None, 1, 10, true),
                ("subscribed", Some("a".into()), 2, 4, true),
                ("subscribed", Some("b".into()), 3, 10, true)
            ]
        );
    }

    #[test]
    fn subscribe_events_pair_by_remote_participant() {
        let d = derive(
            vec![
                sub(1, "SUBSCRIBE_STARTED", 0, "a"),
                sub(2, "SUBSCRIBE_STOPPED", 3, "b"),
                ev(3, "SUBSCRIBE_STARTED", 4),
                ev(4, "SUBSCRIBE_STOPPED", 5),
                sub(5, "SUBSCRIBE_STOPPED", 6, "a"),
            ],
            6 * S,
        );
        assert_eq!(
            spans(&d),
            [
                ("subscribed", None, 4, 5, true),
                ("subscribed", Some("a".into()), 0, 6, true)
            ]
        );
    }

    #[test]
    fn open_intervals_close_at_the_session_end_and_replications_stay_open() {
        let mut started = ev(3, "REPLICATION_STARTED", 2);
        started.destination_stage_arn = Some("arn:dst".into());
        let d = derive(
            vec![
                ev(1, "JOINED", 0),
                ev(2, "PUBLISH_STARTED", 1),
                started,
                ev(4, "JOINED@2", 5),
            ],
            30 * S,
        );
        assert_eq!(
            spans(&d),
            [
                ("connected", None, 0, 30, false),
                ("connected", None, 5, 30, false),
                ("publishing", None, 1, 30, false)
            ]
        );
        assert_eq!(d.replications.len(), 1);
        assert_eq!(d.replications[0].stopped_at_us, None);
    }

    #[test]
    fn replication_pairs_by_destination_and_ignores_left() {
        let rep = |key, name: &str, t, dst: &str| EventRow {
            destination_stage_arn: Some(dst.into()),
            destination_session_id: Some("st-d".into()),
            ..ev(key, name, t)
        };
        let d = derive(
            vec![
                ev(1, "JOINED", 0),
                rep(2, "REPLICATION_STARTED", 1, "arn:a"),
                rep(3, "REPLICATION_STARTED", 1, "arn:b"),
                ev(4, "LEFT", 2),
                rep(5, "REPLICATION_STOPPED", 3, "arn:a"),
                rep(6, "REPLICATION_STOPPED", 4, "arn:c"),
            ],
            4 * S,
        );
        let mut got: Vec<_> = d
            .replications
            .iter()
            .map(|r| {
                (
                    r.destination_stage_arn.clone().unwrap(),
                    r.started_at_us / S,
                    r.stopped_at_us.map(|t| t / S),
                )
            })
            .collect();
        got.sort();
        assert_eq!(
            got,
            [("arn:a".into(), 1, Some(3)), ("arn:b".into(), 1, None)]
        );
    }

    #[test]
    fn token_exchanges_at_one_instant_follow_the_chain() {
        let tx = |key, prev, new| EventRow {
            previous_token: Some(format!("token {prev}")),
            new_token: Some(format!("token {new}")),
            ..ev(key, "TOKEN_EXCHANGED", 5)
        };
        let mut first = tx(1, 10, 11);
        first.time_us = 4 * S;
        // Identity order would put 2 (12 -> 13) before 3 (11 -> 12); the chain says otherwise.
        let d = derive(vec![first, tx(2, 12, 13), tx(3, 11, 12)], 5 * S);
        assert_eq!(order(&d), [(1, 1), (2, 3), (3, 2)]);
    }

    #[test]
    fn with_no_earlier_exchange_the_chain_head_goes_first() {
        let tx = |key, prev, new| EventRow {
            previous_token: Some(format!("token {prev}")),
            new_token: Some(format!("token {new}")),
            ..ev(key, "TOKEN_EXCHANGED", 5)
        };
        let d = derive(vec![tx(1, 21, 22), tx(2, 20, 21)], 5 * S);
        assert_eq!(order(&d), [(1, 2), (2, 1)]);
    }

    #[test]
    fn effects_say_what_each_event_did() {
        let d = derive(
            vec![
                ev(1, "JOINED", 0),
                ev(2, "JOINED", 1),
                ev(3, "PUBLISH_STARTED", 2),
                sub(4, "SUBSCRIBE_STARTED", 2, "a"),
                ev(5, "PUBLISH_ERROR", 3),
                ev(6, "LEFT", 4),
                ev(7, "PUBLISH_STOPPED", 5),
            ],
            5 * S,
        );
        let mut effects: Vec<_> = d
            .applied
            .iter()
            .map(|a| {
                (
                    a.event_key,
                    a.effect.text.as_str(),
                    a.effect.connected,
                    a.effect.publishing,
                )
            })
            .collect();
        effects.sort();
        assert_eq!(
            effects,
            [
                (1, "opens connected", 1, 0),
                (2, "ignored start", 0, 0),
                (3, "opens publishing", 0, 1),
                (4, "opens subscribed", 0, 0),
                (5, "error", 0, 0),
                (6, "closes connected, publishing, subscribed", -1, -1),
                (7, "orphan stop", 0, 0),
            ]
        );
    }

    /// Each name, in the plainest sequence that lets it act, does what `usual_effect` says.
    #[test]
    fn every_name_has_its_usual_effect_when_nothing_gets_in_its_way() {
        let names = [
            "JOINED",
            "PUBLISH_STARTED",
            "SUBSCRIBE_STARTED",
            "REPLICATION_STARTED",
            "REPLICATION_STOPPED",
            "SUBSCRIBE_STOPPED",
            "PUBLISH_STOPPED",
            "JOIN_ERROR",
            "PUBLISH_ERROR",
            "SUBSCRIBE_ERROR",
            "TOKEN_EXCHANGED",
            "PARTICIPANT_MUTED",
            "LEFT",
        ];
        let events = names
            .iter()
            .zip(1..)
            .map(|(name, i)| sub(i, name, i, "a"))
            .collect();
        let d = derive(events, 20 * S);
        let mut effects: Vec<_> = d.applied.iter().map(|a| a.effect.text.as_str()).collect();
        effects.sort();
        let mut usual: Vec<_> = names.iter().map(|n| usual_effect(n)).collect();
        usual.sort();
        assert_eq!(effects, usual);
    }

    #[test]
    fn unknown_names_change_nothing_and_list_last() {
        let d = derive(
            vec![
                ev(1, "JOINED", 0),
                ev(2, "PARTICIPANT_MUTED", 0),
                ev(3, "LEFT", 0),
            ],
            0,
        );
        assert_eq!(spans(&d), [("connected", None, 0, 0, true)]);
        assert_eq!(order(&d), [(1, 1), (2, 3), (3, 2)]);
    }
}

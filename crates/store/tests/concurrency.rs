//! Many caches opened at once from many threads (the app's readers, the sync's writer, and
//! tests in parallel): every open succeeds and reads its own data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use canopy_core::MemberId;
use canopy_store::{CacheKey, Store};
use common::{member, period};

#[test]
fn caches_opened_from_many_threads_at_once_all_work() {
    let threads: Vec<_> = (0..8)
        .map(|t| {
            std::thread::spawn(move || {
                for round in 0..12 {
                    let dir = tempfile::tempdir().unwrap();
                    let key = CacheKey::generate().unwrap();
                    let store = Store::open(&dir.path().join("cache.db"), key)
                        .unwrap_or_else(|e| panic!("thread {t} round {round}: {e:?}"));
                    store.write(|w| w.put_member(&member(1, None, 0))).unwrap();
                    assert_eq!(
                        store.children(MemberId::new(1), period(10)).unwrap().len(),
                        0
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// Giving the page caches back (the app's idle trim) skips a connection in use instead of
/// waiting for it, and the cache reads and writes as before afterwards.
#[test]
fn releasing_memory_skips_a_busy_connection_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cache.db"), CacheKey::generate().unwrap()).unwrap();
    store
        .write(|w| {
            w.put_member(&member(1, None, 0))?;
            w.put_member(&member(2, Some(1), 0))
        })
        .unwrap();
    let (busy_tx, busy_rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let shared = &store;
    std::thread::scope(|scope| {
        // A reader held for the whole release: the release must return without it.
        scope.spawn(move || {
            shared
                .database()
                .read(|_| {
                    busy_tx.send(()).unwrap();
                    done_rx.recv().unwrap();
                    Ok(())
                })
                .unwrap();
        });
        busy_rx.recv().unwrap();
        store.database().release_memory().unwrap();
        done_tx.send(()).unwrap();
    });
    store.database().release_memory().unwrap();
    let children = store.children(MemberId::new(1), period(10)).unwrap();
    assert_eq!(children.len(), 1);
    store
        .write(|w| w.put_member(&member(3, Some(1), 0)))
        .unwrap();
    assert_eq!(
        store.children(MemberId::new(1), period(10)).unwrap().len(),
        2
    );
}

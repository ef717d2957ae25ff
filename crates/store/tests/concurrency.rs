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

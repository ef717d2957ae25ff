//! The task that runs the sync schedule for one unlocked cache (being written).

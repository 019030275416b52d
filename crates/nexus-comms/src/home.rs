//! What comms puts on the home page and the navigation's counts.

use nexus_core::home::Home;

pub const HOME: Home = Home::NONE;

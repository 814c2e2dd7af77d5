//! Haven's black-box tests, one binary (so the server is linked once): each module starts
//! the real server and talks to it the way its users do.

mod audit;
mod browser;
mod cases;
mod cli;
mod crash;
mod door;
mod enforcement;
mod erasure;
mod http_basics;
mod identity;
mod instances;
mod involvement;
mod manage;
mod matrix;
mod migrations;
mod outbox;
mod plans;
mod properties;
mod second_factor;
mod shielded;

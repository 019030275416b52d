//! Maintenance integration tests, one binary: assets, work orders, inventory, schedules,
//! KPIs, QR, requests and work order photos through real HTTP on SQLite and PostgreSQL,
//! and the phone pages in headless Chromium.

mod api;
mod archive;
mod browser;
mod common;
mod concurrency;
mod home;
mod inventory;
mod inventory_pages;
mod kpis;
mod pages_edit;
mod photos;
mod request_browser;
mod requests;
mod schedules;
mod work_orders;

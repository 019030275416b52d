//! Request and response types of maintenance, their validation, and the domain's
//! permissions. One module per area; everything is re-exported here.

mod assets;
mod exchange;
mod inventory;
mod kpis;
mod qr;
mod requests;
mod schedules;
mod work_orders;

pub use assets::*;
pub use exchange::*;
pub use inventory::*;
pub use kpis::*;
pub use qr::*;
pub use requests::*;
pub use schedules::*;
pub use work_orders::*;

use nexus_core::domain::PermissionDef;

/// Permission types of this domain, for `Require<...>` in handlers.
pub mod perm {
    nexus_core::permissions! {
        AssetsRead = "assets:read";
        AssetsWrite = "assets:write";
        LocationsRead = "locations:read";
        LocationsWrite = "locations:write";
        WorkOrdersRead = "work_orders:read";
        WorkOrdersWrite = "work_orders:write";
        WorkOrdersManage = "work_orders:manage";
        PartsRead = "parts:read";
        PartsWrite = "parts:write";
        StockWrite = "stock:write";
        SchedulesRead = "pm_schedules:read";
        SchedulesWrite = "pm_schedules:write";
        KpisRead = "maintenance_kpis:read";
    }
}

pub const PERMISSIONS: &[PermissionDef] = &[
    PermissionDef {
        name: "assets:read",
        description: "List and view assets and asset types",
        granted_to: &["manager", "staff", "user", "guest"],
    },
    PermissionDef {
        name: "assets:write",
        description: "Create and change assets and asset types",
        granted_to: &["manager", "staff"],
    },
    PermissionDef {
        name: "locations:read",
        description: "List and view locations",
        granted_to: &["manager", "staff", "user", "guest"],
    },
    PermissionDef {
        name: "locations:write",
        description: "Create, change and delete locations",
        granted_to: &["manager"],
    },
    PermissionDef {
        name: "work_orders:read",
        description: "List and view work orders, downtime and work requests",
        granted_to: &["manager", "staff", "user", "guest"],
    },
    PermissionDef {
        name: "work_orders:write",
        description: "Create and work on work orders: status, checklist, labor, parts, comments",
        granted_to: &["manager", "staff"],
    },
    PermissionDef {
        name: "work_orders:manage",
        description: "Assign and cancel work orders, approve or reject work requests",
        granted_to: &["manager"],
    },
    PermissionDef {
        name: "parts:read",
        description: "List and view parts, stock levels and the stock ledger",
        granted_to: &["manager", "staff", "user", "guest"],
    },
    PermissionDef {
        name: "parts:write",
        description: "Create and change parts",
        granted_to: &["manager"],
    },
    PermissionDef {
        name: "stock:write",
        description: "Receive, adjust and transfer stock",
        granted_to: &["manager", "staff"],
    },
    PermissionDef {
        name: "pm_schedules:read",
        description: "List and view preventive maintenance schedules",
        granted_to: &["manager", "staff", "user", "guest"],
    },
    PermissionDef {
        name: "pm_schedules:write",
        description: "Create, change and delete preventive maintenance schedules",
        granted_to: &["manager"],
    },
    PermissionDef {
        name: "maintenance_kpis:read",
        description: "View maintenance KPIs: MTTR, MTBF, availability, PM compliance, cost",
        granted_to: &["manager", "staff"],
    },
];

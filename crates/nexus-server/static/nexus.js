// Nexus script

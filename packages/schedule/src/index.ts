// Public surface of the schedule engine; filled in by the engine modules.
export {};

/** The workflows that gmail-sync workers run. */
export {};

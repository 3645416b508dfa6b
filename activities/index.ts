/** The activities that gmail-sync workers run. */
export {};

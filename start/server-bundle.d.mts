/** Types of server-bundle.mjs (plain JavaScript: it runs before anything is compiled). */
export declare const OUT_DIR: string;
/** The bundle's entry when it was built from exactly the files now on disk, else undefined. */
export declare function currentServerBundle(): string | undefined;
/**
 * Builds the bundle into outDir (default dist/server; inside the checkout, so its packages resolve) and returns its
 * entry.
 */
export declare function buildServerBundle(options?: { outDir?: string }): Promise<string>;

import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["ui/dist/**", "node_modules/**", "tests/e2e/artifacts/**", "target/**"] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      // node:test's describe/it return promises the runner itself awaits.
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          allowForKnownSafeCalls: [
            { from: "package", package: "node:test", name: ["describe", "it", "test", "suite"] },
          ],
        },
      ],
    },
  },
  { files: ["ui/src/**"], languageOptions: { globals: globals.browser } },
  { files: ["tests/**", "scripts/**", "*.config.*"], languageOptions: { globals: globals.node } },
  { files: ["eslint.config.js"], ...tseslint.configs.disableTypeChecked },
);

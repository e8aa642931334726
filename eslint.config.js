// ESLint for the browser code in web/app (`make lint` runs `npx eslint web/app`): the
// recommended rules, browser globals, ES modules. Types are tsc's job (tsconfig.json).
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["web/app/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: globals.browser,
    },
    rules: {
      eqeqeq: ["error", "always"],
      "no-implicit-globals": "error",
    },
  },
];

// One Chromium launcher for every package's browser tests.
export { CHROMIUM_ARGS, CHROMIUM_PATH, launchChromium } from "@platform/voting-app/dev/chromium";

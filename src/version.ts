/** hoop's version: the CLI's (`hoop --version`) and the one its MCP servers report. */
export const VERSION = '0.1.0';

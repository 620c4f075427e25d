// The widget's stylesheet, bundled as text (see web/build.mjs) and adopted into its shadow root.
declare module "*.widget.css" {
  const css: string;
  export default css;
}

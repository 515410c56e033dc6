// uPlot's stylesheet as text (esbuild: `with { type: 'text' }`), adopted into the chart's shadow root: the page's
// CSP (style-src 'self') forbids injected <style> elements but not constructed stylesheets.
declare module 'uplot/dist/uPlot.min.css' {
  const text: string;
  export default text;
}

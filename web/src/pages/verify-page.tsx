import { Page } from '../components/page';

// Scaffold: this page is being built.
export default function Scaffold() {
  return <Page title="Verify">{null}</Page>;
}

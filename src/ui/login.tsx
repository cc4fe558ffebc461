import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { LoginPage, takeToken } from './pages/LoginPage';
import './styles.css';

// Before anything renders: the secret leaves the address bar (and history) at once.
const token = takeToken();
const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <LoginPage initialToken={token} />
    </StrictMode>,
  );
}
